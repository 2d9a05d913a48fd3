"""Signed-cookie sessions with an idle timeout, as a small pure-ASGI middleware.

The cookie holds only ids and times, signed with HMAC-SHA256; nothing clinical ever goes in
it. A session is also bound to a fingerprint of the user's password hash, so a password
change (or a removed account) ends every open session of that user. Signing out is
remembered server-side (`SignOuts`), so a copied cookie cannot resume a session after it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sijcare.web.settings import Settings

COOKIE = "sijcare_session"
REFRESH_AFTER_SECONDS = 60  # re-sign at most once a minute, not on every request


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass
class Session:
    """One browser's session; `changed` tells the middleware to send a new cookie."""

    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    user_id: int | None = None
    password_fingerprint: str | None = None
    signed_in_at: float = 0.0
    last_seen: float = 0.0
    flash: str | None = None
    timed_out: bool = False
    fresh: bool = False
    changed: bool = False
    ended: str | None = None  # the nonce of a sign-in ended by this request

    def sign_in(self, user_id: int, password_hash: str, now: float) -> None:
        """A new nonce on sign-in, so a token planted before it (fixation) is worthless."""
        if self.user_id is not None:
            self.ended = self.nonce
        self.nonce = secrets.token_urlsafe(18)
        self.user_id, self.password_fingerprint = user_id, fingerprint(password_hash)
        self.signed_in_at = self.last_seen = now
        self.timed_out, self.changed = False, True

    def sign_out(self) -> None:
        if self.user_id is not None:
            self.ended = self.nonce
        self.nonce = secrets.token_urlsafe(18)
        self.user_id = self.password_fingerprint = None
        self.changed = True

    def say(self, message: str) -> None:
        """A one-line notice shown on the next page (post/redirect/get).

        It travels in the cookie, so it must be a fixed sentence: never a name, a complaint or
        anything else about a patient or a user."""
        self.flash, self.changed = message, True

    def take_flash(self) -> str | None:
        message, self.flash = self.flash, None
        if message:
            self.changed = True
        return message


class SessionCodec:
    """Turns a `Session` into a signed cookie value and back."""

    def __init__(self, secret: bytes):
        self._key = hashlib.sha256(b"sijcare-session|" + secret).digest()
        self._csrf_key = hashlib.sha256(b"sijcare-csrf|" + secret).digest()

    def _sign(self, payload: bytes) -> str:
        digest = hmac.new(self._key, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def dump(self, session: Session) -> str:
        data = {"n": session.nonce, "u": session.user_id, "p": session.password_fingerprint,
                "i": session.signed_in_at, "s": session.last_seen, "f": session.flash}
        payload = base64.urlsafe_b64encode(
            json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=")
        return f"{payload.decode()}.{self._sign(payload)}"

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie, or None when it is absent, malformed or forged."""
        if not value or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        # bytes, not str: compare_digest refuses non-ASCII str, and a cookie may hold anything
        if not hmac.compare_digest(signature.encode(), self._sign(payload.encode()).encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return Session(nonce=str(data["n"]), user_id=data["u"],
                           password_fingerprint=data["p"], signed_in_at=float(data["i"]),
                           last_seen=float(data["s"]), flash=data["f"])
        except (ValueError, KeyError, TypeError):
            return None

    def csrf_token(self, session: Session) -> str:
        """The form token: derived from the session nonce, so it needs no storage."""
        return hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).hexdigest()


class SignOuts:
    """Nonces of ended sign-ins, kept until those sessions would have expired anyway.

    Process memory: the supported layout is one server process per clinic database.
    """

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def add(self, nonce: str, until: float, now: float) -> None:
        for stale in [n for n, end in self._until.items() if end < now]:
            del self._until[stale]
        self._until[nonce] = until

    def ended(self, nonce: str) -> bool:
        return nonce in self._until


class SessionMiddleware:
    """Loads the session into `request.state.session`; ends idle or too-old sign-ins."""

    def __init__(self, app: ASGIApp, settings: Settings, codec: SessionCodec,
                 sign_outs: SignOuts):
        self.app, self.settings, self.codec = app, settings, codec
        self.sign_outs = sign_outs

    def _open(self, cookie: str | None, now: float) -> Session:
        session = self.codec.load(cookie)
        if session is None:
            return Session(fresh=True, changed=cookie is not None)  # replaces a forged one
        if session.user_id is not None and self.sign_outs.ended(session.nonce):
            session.sign_out()
            session.ended = None
        elif session.user_id is not None:
            idle = now - session.last_seen > self.settings.idle_timeout_seconds
            too_old = now - session.signed_in_at > self.settings.session_lifetime_seconds
            if idle or too_old:
                session.sign_out()
                session.timed_out = True
            elif now - session.last_seen > REFRESH_AFTER_SECONDS:
                session.last_seen, session.changed = now, True
        return session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        session = self._open(connection.cookies.get(COOKIE), self.settings.clock())
        scope.setdefault("state", {})["session"] = session
        secure = self.settings.secure_cookies or scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.ended:
                self.sign_outs.add(session.ended, session.signed_in_at
                                   + self.settings.session_lifetime_seconds,
                                   self.settings.clock())
            if message["type"] == "http.response.start" and session.changed:
                # No Max-Age: the cookie ends with the browser on a shared workstation.
                cookie = f"{COOKIE}={self.codec.dump(session)}; Path=/; HttpOnly; SameSite=Lax"
                MutableHeaders(scope=message).append(
                    "set-cookie", cookie + ("; Secure" if secure else ""))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

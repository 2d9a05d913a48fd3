"""Sessions: a signed cookie naming a sign-in that the database holds, as a pure-ASGI middleware.

The cookie holds only a random token, the user id and a one-line notice, signed with
HMAC-SHA256; nothing clinical ever goes in it. Whether the sign-in is still valid is asked of
the database (`web_sessions`) on every request: signing out deletes the row, the idle timeout
runs on the row's `last_seen`, and the user's row must still be active with the password
signed in with (compared by a fingerprint of its hash). So every server process on the
database agrees at once, and a restart undoes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from contextlib import nullcontext
from dataclasses import dataclass, field

import anyio
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sijcare.store.db import reading
from sijcare.store.web_sessions import Standing, standing, touch_web_session
from sijcare.web.settings import Settings

COOKIE = "sijcare_session"
# last_seen is written at most once a second: idle time is then exact to the second (written
# once a minute, SIJCARE_IDLE_MINUTES=1 signed out a user active all along), and a burst of
# requests still writes it once.
TOUCH_AFTER_SECONDS = 1


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass
class Session:
    """One browser's session; `changed` tells the middleware to send a new cookie."""

    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    user_id: int | None = None
    password_fingerprint: str | None = None  # of the sign-in, as the database holds it
    flash: str | None = None
    # password right, one-time code still owed: (user id, password fingerprint, since when)
    pending: tuple[int, str, float] | None = None
    timed_out: bool = False
    ended: tuple[str, int] | None = None  # (nonce, user id) of a sign-in that just timed out
    fresh: bool = False
    changed: bool = False

    def sign_in(self, user_id: int, password_hash: str) -> None:
        """A new nonce on sign-in, so a token planted before it (fixation) is worthless."""
        self.nonce = secrets.token_urlsafe(18)
        self.user_id, self.password_fingerprint = user_id, fingerprint(password_hash)
        self.pending, self.timed_out, self.changed = None, False, True

    def await_code(self, user_id: int, password_hash: str, now: float) -> None:
        """The password was right; the one-time code must come next, on this browser."""
        self.pending, self.changed = (user_id, fingerprint(password_hash), now), True

    def stop_awaiting_code(self) -> None:
        if self.pending is not None:
            self.pending, self.changed = None, True

    def sign_out(self) -> None:
        self.nonce = secrets.token_urlsafe(18)
        self.user_id = self.password_fingerprint = self.pending = None
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
        data = {"n": session.nonce, "u": session.user_id, "f": session.flash}
        if session.pending:
            data["p"] = list(session.pending)
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
            user_id = data["u"]
            if user_id is not None and not isinstance(user_id, int):
                return None
            pending = data.get("p")
            if pending is not None:
                user, print_, since = pending
                pending = (int(user), str(print_), float(since))
            return Session(nonce=str(data["n"]), user_id=user_id, flash=data["f"],
                           pending=pending)
        except (ValueError, KeyError, TypeError):
            return None

    def csrf_token(self, session: Session) -> str:
        """The form token: derived from the session nonce, so it needs no storage."""
        return self.csrf_token_of(session.nonce)

    def csrf_token_of(self, nonce: str) -> str:
        return hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).hexdigest()


class SessionMiddleware:
    """Loads the session into `request.state.session`; ends sign-ins the database no longer
    holds, idle or too old ones, and those of a disabled user or a changed password."""

    def __init__(self, app: ASGIApp, settings: Settings, codec: SessionCodec, engine: Engine,
                 gate: anyio.Lock | None):
        self.app, self.settings, self.codec = app, settings, codec
        self.engine, self.gate = engine, gate

    def _standing(self, token: str) -> Standing | None:
        with reading(self.engine) as connection:
            return standing(connection, token)

    def _touch(self, token: str, now: float) -> None:
        with self.engine.begin() as connection:
            touch_web_session(connection, token, now)

    async def _open(self, cookie: str | None, now: float) -> Session:
        session = self.codec.load(cookie)
        if session is None:
            return Session(fresh=True, changed=cookie is not None)  # replaces a forged one
        if session.user_id is None:
            return session
        held = await run_in_threadpool(self._standing, session.nonce)
        if (held is None or held.user_id != session.user_id or not held.active
                or fingerprint(held.password_hash) != held.password_fingerprint):
            session.sign_out()
        elif (now - held.last_seen > self.settings.idle_timeout_seconds
              or now - held.signed_in_at > self.settings.session_lifetime_seconds):
            session.ended = (session.nonce, session.user_id)
            session.sign_out()
            session.timed_out = True
        else:
            session.password_fingerprint = held.password_fingerprint
            if now - held.last_seen >= TOUCH_AFTER_SECONDS:
                async with self.gate or nullcontext():
                    await run_in_threadpool(self._touch, session.nonce, now)
        return session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/static/"):  # assets need no sign-in: ask no database
            session = Session()
        else:
            cookie = HTTPConnection(scope).cookies.get(COOKIE)
            session = await self._open(cookie, self.settings.clock())
        scope.setdefault("state", {})["session"] = session
        secure = self.settings.secure_cookies or scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.changed:
                # No Max-Age: the cookie ends with the browser on a shared workstation.
                cookie = f"{COOKIE}={self.codec.dump(session)}; Path=/; HttpOnly; SameSite=Lax"
                MutableHeaders(scope=message).append(
                    "set-cookie", cookie + ("; Secure" if secure else ""))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

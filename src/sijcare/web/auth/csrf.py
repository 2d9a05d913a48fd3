"""CSRF tokens: one per session, in every form and checked on every unsafe method.

Forms send it as the `csrf_token` field; API clients as the `X-CSRF-Token` header (they get
it from `GET /api/v1/session`).
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Authenticated by a bearer JWT alone, never by the session cookie: nothing to forge.
BEARER_ONLY = ("/cds-services/",)


class SessionEnded(Exception):
    """A form typed in this app under a sign-in that has since timed out: its entries are kept
    for `user_id` (`auth/kept.py`) instead of refused with the rest."""

    def __init__(self, user_id: int):
        super().__init__(user_id)
        self.user_id = user_id


def csrf_token(request: Request) -> str:
    """The token for this browser; a brand-new session is kept so the token stays valid."""
    session = request.state.session
    if session.fresh:
        session.changed = True
    return request.app.state.codec.csrf_token(session)


async def check_csrf(request: Request) -> None:
    """App-wide dependency: refuse an unsafe request without this session's token."""
    if request.method in SAFE_METHODS or request.url.path.startswith(BEARER_ONLY):
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        sent = (await request.form()).get("csrf_token")
    codec, session = request.app.state.codec, request.state.session
    if not _matches(sent, codec.csrf_token(session)):
        if session.ended and _matches(sent, codec.csrf_token_of(session.ended[0])):
            raise SessionEnded(session.ended[1])  # typed in this app, signed out meanwhile
        raise HTTPException(403, "The form has expired or did not come from this site "
                                 "(missing or wrong CSRF token). Reload the page and retry.")


def _matches(sent: object, expected: str) -> bool:
    # bytes, not str: compare_digest refuses non-ASCII str, and a header may hold anything
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(errors="replace"),
                                                         expected.encode())

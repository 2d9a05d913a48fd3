"""CSRF tokens: one per session, in every form and checked on every unsafe method.

Forms send it as the `csrf_token` field; API clients as the `X-CSRF-Token` header (they get
it from `GET /api/v1/session`).
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def csrf_token(request: Request) -> str:
    """The token for this browser; a brand-new session is kept so the token stays valid."""
    session = request.state.session
    if session.fresh:
        session.changed = True
    return request.app.state.codec.csrf_token(session)


async def check_csrf(request: Request) -> None:
    """App-wide dependency: refuse an unsafe request without this session's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        sent = (await request.form()).get("csrf_token")
    expected = request.app.state.codec.csrf_tokens(request.state.session)
    # bytes, not str: compare_digest refuses non-ASCII str, and a header may hold anything
    if not isinstance(sent, str) or not any(hmac.compare_digest(
            sent.encode(errors="replace"), token.encode()) for token in expected):
        raise HTTPException(403, "The form has expired or did not come from this site "
                                 "(missing or wrong CSRF token). Reload the page and retry.")

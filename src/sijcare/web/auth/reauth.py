"""Re-authentication for admin actions: an account change (create, deactivate, reset, approve,
a clinic's sign-in rule) needs the password, and the code if enrolled, proven within the last
`reauth_seconds`; else the admin is sent to confirm it is them, and then back.

So a browser left signed in, or a stolen session cookie, cannot hand out accounts; the check
reads the sign-in's row (`web_sessions.verified_at`, else its `signed_in_at`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from sijcare.store import User, record_event
from sijcare.store.second_factors import enrolled
from sijcare.store.web_sessions import mark_verified, verified_at
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.pages import safe_next
from sijcare.web.auth.signin import SignInRefused, check_code, check_password
from sijcare.web.deps import CurrentActor, DbSession, forbidden
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
CONFIRM_PATH = "/account/confirm"


def recently_verified(request: Request, db: DbSession) -> bool:
    settings = request.app.state.settings
    at = verified_at(db, request.state.session.nonce)
    return at is not None and settings.clock() - at <= settings.reauth_seconds


def require_fresh(permission: Permission) -> Callable[..., Awaitable[Actor]]:
    """The role check first (others get 403 as before), then the recent proof."""

    async def dependency(request: Request, db: DbSession, actor: CurrentActor) -> Actor:
        if not actor.may(permission):
            raise forbidden(actor)
        if not await run_in_threadpool(recently_verified, request, db):
            back = request.headers.get("referer", "")
            back = back.split(request.url.netloc, 1)[-1] if request.url.netloc in back else "/"
            raise HTTPException(303, "Confirm it is you first.", headers={
                "location": f"{CONFIRM_PATH}?{urlencode({'next': safe_next(back)})}"})
        return actor

    return dependency


def _page(request: Request, db: DbSession, actor: Actor, next_path: str,
          problem: str | None = None, status_code: int = 200) -> Response:
    return render(request, "auth/confirm.html", {
        "next_path": next_path, "problem": problem, "needs_code": enrolled(db, actor.id),
        "minutes": request.app.state.settings.reauth_seconds // 60}, status_code=status_code)


@router.get(CONFIRM_PATH, name="account.confirm_form")
def confirm_form(request: Request, db: DbSession, actor: CurrentActor,
                 next: str = "/") -> Response:
    return _page(request, db, actor, safe_next(next))


@router.post(CONFIRM_PATH, name="account.confirm")
def confirm(request: Request, db: DbSession, actor: CurrentActor,
            password: Annotated[str, Form(max_length=1000)] = "",
            code: Annotated[str, Form(max_length=40)] = "",
            next: Annotated[str, Form()] = "/") -> Response:
    """Throttled and counted like a sign-in, under the user's own name."""
    try:
        user: User = check_password(request, db, actor.username, password)
        factor = check_code(request, db, user, code.strip()) if enrolled(db, user.id) else None
    except SignInRefused as refused:
        return _page(request, db, actor, safe_next(next), refused.message, refused.status_code)
    mark_verified(db, request.state.session.nonce, request.app.state.settings.clock())
    record_event(db, actor.id, "reauthenticate", "user", actor.id,
                 detail={"second_factor": factor} if factor else None)
    return RedirectResponse(safe_next(next), status_code=303)

"""The second step of signing in on the page: the one-time code after a right password.

The password step leaves only a signed mark in the session cookie (who, the fingerprint of
the password they gave, when); the code must follow within `second_step_seconds`, on the same
browser, while the password is unchanged and the account active.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from sijcare.store import User
from sijcare.web.auth.devices import remember_device
from sijcare.web.auth.pages import CODE_PATH, safe_next
from sijcare.web.auth.sessions import fingerprint
from sijcare.web.auth.signin import SignInRefused, check_code, complete_sign_in
from sijcare.web.deps import DbSession
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)


def awaiting(request: Request, db: DbSession) -> User | None:
    """The user whose code this browser owes, if the mark is still good."""
    pending = request.state.session.pending
    if pending is None:
        return None
    user_id, password_print, since = pending
    settings = request.app.state.settings
    user = db.get(User, user_id)
    if (user is None or not user.active or fingerprint(user.password_hash) != password_print
            or not 0 <= settings.clock() - since <= settings.second_step_seconds):
        return None
    return user


def _page(request: Request, next_path: str, problem: str | None = None,
          status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = render(request, "auth/code.html", {"next_path": next_path, "problem": problem},
                      status_code=status_code)
    response.headers.update(headers or {})
    return response


def _start_over(request: Request) -> Response:
    """Back to the password (a signed-in user who lands here stays signed in)."""
    request.state.session.stop_awaiting_code()
    request.state.session.say("Sign in again: the code must follow the password within a "
                              "few minutes.")
    return RedirectResponse("/login", status_code=303)


@router.get(CODE_PATH, name="sign_in.code_form")
def code_form(request: Request, db: DbSession, next: str = "/") -> Response:
    if awaiting(request, db) is None:
        return _start_over(request)
    return _page(request, safe_next(next))


@router.post(CODE_PATH, name="sign_in.code")
def code(request: Request, db: DbSession,
         code: Annotated[str, Form(max_length=40)] = "",
         next: Annotated[str, Form()] = "/") -> Response:
    user = awaiting(request, db)
    if user is None:
        return _start_over(request)
    try:
        factor = check_code(request, db, user, code.strip())
    except SignInRefused as refused:
        headers = {"retry-after": str(refused.retry_after)} if refused.retry_after else None
        if refused.status_code == 429:
            request.state.session.stop_awaiting_code()
        return _page(request, safe_next(next), refused.message, refused.status_code, headers)
    complete_sign_in(request, db, user, factor)
    return remember_device(request, RedirectResponse(safe_next(next), status_code=303))

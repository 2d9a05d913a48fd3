"""The sign-in page and sign-out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from pydantic import AfterValidator
from starlette.responses import RedirectResponse, Response

from sijcare.web.auth.devices import remember_device
from sijcare.web.auth.kept import resume
from sijcare.web.auth.signin import SecondFactorNeeded, SignInRefused, sign_in, sign_out
from sijcare.web.deps import DbSession
from sijcare.web.strict import one_line
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
CODE_PATH = "/login/code"  # the second step (`second_step.py`)


def safe_next(path: str | None) -> str:
    """Only local paths: `next` must never send a user off-site after signing in."""
    if (path and path.startswith("/") and not path.startswith("//") and "\\" not in path
            and not any(c.isspace() or not c.isprintable() for c in path)):
        return path  # browsers drop tabs and newlines, so "/\t/evil" would mean "//evil"
    return "/"


def _page(request: Request, next_path: str, username: str = "", problem: str | None = None,
          status_code: int = 200, headers: dict[str, str] | None = None,
          kept: str = "") -> Response:
    response = render(request, "auth/login.html", {
        "next_path": next_path, "username": username, "problem": problem, "kept": kept,
        "idle_minutes": request.app.state.settings.idle_timeout_seconds // 60},
        status_code=status_code)
    response.headers.update(headers or {})
    return response


@router.get("/login", name="sign_in.form")
def login_form(request: Request, next: str | None = None) -> Response:
    return _page(request, safe_next(next))


@router.post("/login", name="sign_in")
def login(request: Request, db: DbSession,
          username: Annotated[str, AfterValidator(one_line), Form(max_length=200)],
          password: Annotated[str, Form(max_length=1000)],
          next: Annotated[str, Form()] = "/",
          kept: Annotated[str, AfterValidator(one_line), Form(max_length=100)] = "") -> Response:
    """With `kept`, the entries kept when the session ended are sent on after signing in."""
    try:
        user = sign_in(request, db, username, password)
    except SecondFactorNeeded as needed:
        request.state.session.await_code(needed.user.id, needed.user.password_hash,
                                         request.app.state.settings.clock())
        return RedirectResponse(f"{CODE_PATH}?{urlencode({'next': safe_next(next)})}",
                                status_code=303)
    except SignInRefused as refused:
        headers = {"retry-after": str(refused.retry_after)} if refused.retry_after else None
        return _page(request, safe_next(next), username, refused.message,
                     refused.status_code, headers, kept)
    if kept and (sent_on := resume(request, db, user, kept)):
        return remember_device(request, sent_on)
    return remember_device(request, RedirectResponse(safe_next(next), status_code=303))


@router.post("/logout", name="sign_out")
def logout(request: Request, db: DbSession) -> Response:
    sign_out(request, db)
    request.state.session.say("You are signed out.")
    return RedirectResponse("/login", status_code=303)

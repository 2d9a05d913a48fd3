"""How refusals look: JSON under /api, a page (or the sign-in form) everywhere else."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sijcare.web.deps import PASSWORD_CHANGE_PATH, NotSignedIn, PasswordChangeRequired
from sijcare.web.headers import security_headers
from sijcare.web.templating import render

TITLES = {401: "Please sign in", 403: "Not allowed", 404: "Not found",
          405: "Not allowed", 422: "Invalid request", 429: "Too many attempts"}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def not_signed_in(request: Request, error: NotSignedIn) -> Response:
    if is_api(request):
        return JSONResponse({"detail": "Sign in first (POST /api/v1/session)."}, status_code=401,
                            headers={"www-authenticate": 'Cookie realm="sijcare"'})
    if error.timed_out:
        minutes = request.app.state.settings.idle_timeout_seconds // 60
        request.state.session.say(f"You were signed out after {minutes} minutes without "
                                  "activity. Please sign in again.")
    target = request.url.path if request.method == "GET" else "/"
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def password_change_required(request: Request, error: PasswordChangeRequired) -> Response:
    if is_api(request):
        return JSONResponse({"detail": "Your password was reset: change it first (sign in to "
                                       "the app)."}, status_code=403)
    return RedirectResponse(PASSWORD_CHANGE_PATH, status_code=303)


async def http_error(request: Request, error: HTTPException) -> Response:
    if is_api(request) or error.status_code < 400:
        return await http_exception_handler(request, error)
    return render(request, "error.html", {
        "title": TITLES.get(error.status_code, "Something went wrong"),
        "message": error.detail}, status_code=error.status_code)


async def invalid_request(request: Request, error: RequestValidationError) -> Response:
    if is_api(request):
        return await request_validation_exception_handler(request, error)
    problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}"
                         for e in error.errors())
    return render(request, "error.html", {"title": TITLES[422], "message": problems},
                  status_code=422)


SERVER_ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong</title></head>
<body><h1>Something went wrong</h1><p>The server could not complete this request. Please
try again, and tell your administrator if it keeps happening.</p>
<p><a href="/">Back to the start page</a></p></body></html>
"""


async def server_error(request: Request, error: Exception) -> Response:
    """An unexpected failure (500). Starlette sends it from outside every middleware, so the
    security headers are set here; nothing about the request or the error is shown."""
    if is_api(request):
        return JSONResponse({"detail": "Internal server error."}, status_code=500,
                            headers=security_headers())
    return HTMLResponse(SERVER_ERROR_PAGE, status_code=500, headers=security_headers())


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, server_error)
    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(PasswordChangeRequired, password_change_required)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)

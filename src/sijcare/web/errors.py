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
from starlette.responses import JSONResponse, RedirectResponse, Response

from sijcare.web.deps import NotSignedIn
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


def install(app: FastAPI) -> None:
    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)

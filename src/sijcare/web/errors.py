"""How refusals look: JSON under /api, a page (or the sign-in form) everywhere else.

No answer ever repeats what was sent: a 422 names the field and the problem only (an echoed
password, or a value that cannot be encoded as JSON, was how bad input used to leak or turn
into a 500). An unexpected failure is answered here and logged in one line, never re-raised
to the server, which would print a traceback and drop the keep-alive connection.
"""

from __future__ import annotations

import html
import json
import logging
import traceback
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sijcare.web.deps import (
    ENROLMENT_PATH,
    PASSWORD_CHANGE_PATH,
    NotSignedIn,
    PasswordChangeRequired,
    SecondFactorRequired,
)
from sijcare.web.middleware.asgi import HTTPMiddleware
from sijcare.web.middleware.headers import security_headers
from sijcare.web.templating import render

TITLES = {401: "Please sign in", 403: "Not allowed", 404: "Not found",
          405: "Not allowed", 413: "Too large", 422: "Invalid request",
          429: "Too many attempts", 503: "Busy"}
LONGEST_TEXT = 200  # a field name or message longer than this is cut (an unknown key may be huge)
log = logging.getLogger("sijcare.web")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _text(value: object) -> str:
    """Printable, encodable and short: lone surrogates become '?'."""
    text = str(value).encode("utf-8", "replace").decode()
    return text if len(text) <= LONGEST_TEXT else text[:LONGEST_TEXT] + "..."


def problems_of(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's error list without `input` and `ctx`: where and what, never the value."""
    return [{"loc": [part if isinstance(part, int) else _text(part) for part in e["loc"]],
             "msg": _text(e["msg"]), "type": _text(e.get("type", "value_error"))}
            for e in errors]


class SafeJSON(JSONResponse):
    """JSON that always encodes: ASCII only, and no NaN (which JSON does not have)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode()


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


async def second_factor_required(request: Request, error: SecondFactorRequired) -> Response:
    if is_api(request):
        return JSONResponse({"detail": "Your account needs a second factor: enrol an "
                                       "authenticator first (sign in to the app)."},
                            status_code=403)
    return RedirectResponse(ENROLMENT_PATH, status_code=303)


async def http_error(request: Request, error: HTTPException) -> Response:
    if is_api(request) or error.status_code < 400:
        return await http_exception_handler(request, error)
    return render(request, "error.html", {
        "title": TITLES.get(error.status_code, "Something went wrong"),
        "message": error.detail}, status_code=error.status_code)


async def invalid_request(request: Request, error: RequestValidationError) -> Response:
    if is_api(request):
        return SafeJSON({"detail": problems_of(error.errors())}, status_code=422)
    problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}"
                         for e in problems_of(error.errors()))
    return render(request, "error.html", {"title": TITLES[422], "message": problems},
                  status_code=422)


SERVER_ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong</title></head>
<body><h1>Something went wrong</h1><p>The server could not complete this request. Please
try again, and tell your administrator if it keeps happening.</p>
<p><a href="/">Back to the start page</a></p></body></html>
"""


CDS_HOOKS = "/cds-services"  # called by EHRs, which read JSON `{"detail": ...}` answers


def bad_body_status(path: str) -> int:
    """The status of a body that is not strict JSON: CDS Hooks says 400 for a malformed
    request; the clinic's API and pages say 422."""
    return 400 if path.startswith(CDS_HOOKS) else 422


def refusal(status_code: int, message: str, *, loc: list[str] | None = None,
            close: bool = False, headers: dict[str, str] | None = None) -> ASGIApp:
    """An answer sent from outside the app (by a middleware): JSON under /api and to CDS
    Hooks callers, else a page.

    With `loc` the API's JSON is a 422's list of problems; `close` ends the connection after
    it (when the rest of the request was never read); `headers` are sent with it."""
    extra = (headers or {}) | ({"connection": "close"} if close else {})

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        headers = security_headers() | extra
        if scope["path"].startswith("/api/"):
            detail: Any = ([{"loc": loc, "msg": message, "type": "value_error"}]
                           if loc is not None else message)
            response: Response = SafeJSON({"detail": detail}, status_code, headers)
        elif scope["path"].startswith(CDS_HOOKS):
            response = SafeJSON({"detail": message}, status_code, headers)
        else:
            title = TITLES.get(status_code, "Something went wrong")
            response = HTMLResponse(ERROR_PAGE.format(title=html.escape(title),
                                                      message=html.escape(message)),
                                    status_code, headers)
        await response(scope, receive, send)

    return answer


ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p><p><a href="/">Back to the start page</a></p></body>
</html>
"""


class ServerErrors(HTTPMiddleware):
    """Outermost middleware: an unexpected failure answers 500 (security headers set here,
    nothing about the request or the error shown) and is logged in one line naming the route
    and where it failed, never the URL (which may carry a patient's name)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = {"started": False, "complete": False}

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                state["complete"] = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            route = getattr(scope.get("route"), "path", "?")
            log.error("unexpected %s in %s %s (%s:%s)", type(error).__name__,
                      scope["method"], route, where.filename, where.lineno)
            if state["started"] and not state["complete"]:
                raise  # half an answer was sent: only closing the connection can end it
            if not state["started"]:
                if scope["path"].startswith("/api/"):
                    response: Response = SafeJSON({"detail": "Internal server error."}, 500,
                                                  security_headers())
                else:
                    response = HTMLResponse(SERVER_ERROR_PAGE, 500, security_headers())
                await response(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(PasswordChangeRequired, password_change_required)
    app.add_exception_handler(SecondFactorRequired, second_factor_required)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)

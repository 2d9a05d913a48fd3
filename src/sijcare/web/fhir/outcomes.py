"""FHIR answers: `application/fhir+json` bodies, and every refusal under /fhir as an
OperationOutcome (the app's other handlers answer pages or the JSON API's `detail`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from sijcare.web.deps import NotSignedIn, PasswordChangeRequired
from sijcare.web.errors import problems_of

PREFIX = "/fhir"
MEDIA_TYPE = "application/fhir+json"
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
               405: "not-supported", 422: "invalid"}


class FhirResponse(Response):
    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode()


def outcome(status: int, text: str, headers: dict[str, str] | None = None) -> FhirResponse:
    issue = {"severity": "error", "code": ISSUE_CODES.get(status, "processing"),
             "diagnostics": text}
    return FhirResponse({"resourceType": "OperationOutcome", "issue": [issue]}, status,
                        headers)


def _answer(error: Exception) -> FhirResponse:
    if isinstance(error, NotSignedIn):
        return outcome(401, "Sign in first (POST /api/v1/session).",
                       {"www-authenticate": 'Cookie realm="sijcare"'})
    if isinstance(error, PasswordChangeRequired):
        return outcome(403, "Your password was reset: change it first (sign in to the app).")
    if isinstance(error, RequestValidationError):
        return outcome(422, "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}"
                                      for p in problems_of(error.errors())))
    assert isinstance(error, HTTPException)
    return outcome(error.status_code, str(error.detail), getattr(error, "headers", None))


def install(app: FastAPI) -> None:
    """Answer refusals under /fhir as OperationOutcomes; others go to the handler before."""
    for kind in (NotSignedIn, PasswordChangeRequired, HTTPException, RequestValidationError):
        before = app.exception_handlers[kind]

        async def handler(request: Request, error: Exception, before: Any = before
                          ) -> Response:
            if request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/"):
                return _answer(error)
            return await before(request, error)

        app.add_exception_handler(kind, handler)

"""The CDS Hooks 2.0 service (`/cds-services`): sijcare's advice inside the EHR's workflow.

`install` loads the issuers allow-list once and answers every refused token with a bare 401.
"""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sijcare.web.cds_hooks.issuers import KeySets, load_issuers
from sijcare.web.cds_hooks.routes import router
from sijcare.web.cds_hooks.tokens import Problem, Refused

__all__ = ["install", "router"]


async def _refused(request: Request, error: Exception) -> Response:
    return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def _problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, Problem)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


def install(app: FastAPI) -> None:
    app.state.cds_issuers = load_issuers(app.state.settings.cds_issuers)
    app.state.cds_keysets = KeySets()
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(Problem, _problem)

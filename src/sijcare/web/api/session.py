"""Signing in and out over the API; the session cookie then authenticates every call."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from sijcare.web.api.schemas import Credentials, SessionOut, UserOut
from sijcare.web.auth.access import Actor
from sijcare.web.auth.actors import actor_of
from sijcare.web.auth.csrf import csrf_token
from sijcare.web.auth.devices import remember_device
from sijcare.web.auth.signin import SecondFactorNeeded, SignInRefused, sign_in, sign_out
from sijcare.web.deps import DbSession, NotSignedIn, current_actor

router = APIRouter(prefix="/api/v1/session", tags=["session"])


def _session(request: Request, actor: Actor | None) -> SessionOut:
    who = None if actor is None else UserOut(
        id=actor.id, username=actor.username, role=actor.role,
        clinic_ids=sorted(actor.clinic_ids))
    return SessionOut(user=who, csrf_token=csrf_token(request))


@router.get("", response_model=SessionOut)
async def current_session(request: Request) -> SessionOut:
    """Who is signed in (or nobody) and the CSRF token for unsafe requests."""
    try:
        actor = await current_actor(request)
    except NotSignedIn:
        actor = None
    return _session(request, actor)


@router.post("", response_model=SessionOut, responses={401: {}, 403: {}, 429: {}})
def create_session(request: Request, db: DbSession, credentials: Credentials) -> Response:
    """Sign in (with `one_time_code` if the account has a second factor); 5 failures per
    username and address, or 20 per username from anywhere, in 15 minutes lock it for a while
    (429): wrong codes count as failures too."""
    try:
        user = sign_in(request, db, credentials.username, credentials.password,
                       credentials.one_time_code)
    except SecondFactorNeeded:
        return JSONResponse({"detail": "This account has a second factor: send "
                                       "one_time_code with the password."}, 401)
    except SignInRefused as refused:
        headers = {"retry-after": str(refused.retry_after)} if refused.retry_after else None
        return JSONResponse({"detail": refused.message}, refused.status_code, headers)
    return remember_device(request, JSONResponse(_session(request, actor_of(user)).model_dump()))


@router.delete("", status_code=204)
def delete_session(request: Request, db: DbSession) -> Response:
    """Sign out."""
    sign_out(request, db)
    return Response(status_code=204)

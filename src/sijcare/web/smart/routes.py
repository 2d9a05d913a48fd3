"""`/smart/launch` and `/smart/callback`: opened from the EHR (EHR launch, with `launch`) or
from sijcare's own link (standalone, `iss` alone), sijcare signs the clinician in as their
mapped account and opens the launch patient's episode.

The `state` rides in a cookie of its own (path /smart, HttpOnly), binding the callback to
the browser that launched; the PKCE verifier stays in the database (`store.smart_launches`).
The patient is matched by an identifier sijcare gave them, or as the patient an import made
of them (`interop.fhir.matching`); the episode page then applies the usual access rules. A
patient sijcare does not know is offered for import to a clinician who may import
(`/imports/ehr`): only then are the tokens kept, server-side (`web.ehr.grants`), else they
never leave the callback.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from sijcare.interop.fhir.incoming import incoming_patient
from sijcare.interop.fhir.matching import imported_patient_id, matching_patient, survivor
from sijcare.store import get_user_by_username, record_event
from sijcare.store.models import User
from sijcare.store.smart_launches import begin_launch, spend_launch
from sijcare.web.auth.access import ROLE_PERMISSIONS, Permission, Role
from sijcare.web.auth.signin import complete_sign_in
from sijcare.web.deps import in_db
from sijcare.web.ehr.grants import Grant
from sijcare.web.smart.client import (
    Configuration,
    Launched,
    LaunchFailed,
    authorize_url,
    complete,
    discover,
    new_verifier,
)
from sijcare.web.smart.issuers import SmartIssuer
from sijcare.web.templating import render

router = APIRouter(prefix="/smart", include_in_schema=False)
COOKIE = "sijcare_smart_state"
Param = Annotated[str | None, Query(max_length=2000)]


def _refused(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", {"title": "The launch from the EHR stopped",
                                          "message": message}, status_code=status)


def _redirect_uri(request: Request) -> str:
    return request.app.state.settings.public_url + "/smart/callback"


@router.get("/launch", name="smart.launch")
async def launch(request: Request, iss: Param = None, launch: Param = None) -> Response:
    issuer = request.app.state.smart_issuers.get((iss or "").rstrip("/"))
    if issuer is None:
        return _refused(request, 400, "sijcare is not set up to be launched from this EHR "
                                      "(iss is not on SIJCARE_SMART_ISSUERS).")
    try:
        config = await run_in_threadpool(discover, issuer.iss)
    except LaunchFailed as error:
        return _refused(request, 502, str(error))
    state, verifier = secrets.token_urlsafe(32), new_verifier()
    await in_db(request, lambda db: begin_launch(db, state, issuer.iss, verifier))
    answer = RedirectResponse(authorize_url(config, issuer, _redirect_uri(request), state,
                                            verifier, launch), status_code=303)
    answer.set_cookie(COOKIE, state, max_age=600, path="/smart", httponly=True, samesite="lax",
                      secure=request.app.state.settings.secure_cookies)
    return answer


def _offer(request: Request, user: User, issuer: SmartIssuer, config: Configuration,
           launched: Launched) -> str:
    """The tokens kept for the clinician to import the patient with; the offer's URL."""
    found = incoming_patient(launched.patient, [], dt.date.today())
    refresh = launched.tokens.get("refresh_token")
    handle = request.app.state.ehr_grants.keep(Grant(
        user.id, issuer.iss, config.token, launched.tokens["patient"],
        launched.tokens["access_token"], refresh if isinstance(refresh, str) else None,
        launched.expires_at, {"name": f"{found.given_name} {found.family_name}".strip(),
                              "birth_date": found.birth_date}))
    return f"/imports/ehr?grant={handle}"


def _sign_in_and_find(request: Request, db, issuer: SmartIssuer, config: Configuration,
                      launched: Launched) -> tuple[str | None, str | None]:
    """(the episode URL to open, or None; the refusal, or None), signing the user in; a
    patient sijcare does not know opens the offer to import them."""
    username = issuer.username_of(launched.fhir_user)
    user = get_user_by_username(db, username) if username else None
    if user is None or not user.active:
        record_event(db, None, "sign_in", "user", launched.fhir_user[:64], detail={
            "outcome": "failed", "via": "smart", "iss": issuer.iss})
        return None, "Your EHR account is not mapped to an active sijcare account."
    # the EHR signed the clinician in (its id token names them): audited as that factor
    complete_sign_in(request, db, user, factor=f"smart:{issuer.iss}"[:200])
    patient = matching_patient(db, launched.patient.get("identifier") or []) or survivor(
        db, imported_patient_id(db, launched.patient, [m.clinic_id for m in user.memberships]))
    importing = Permission.clinical_write in ROLE_PERMISSIONS[Role(user.role)]
    if patient is None and importing:
        record_event(db, user.id, "smart_launch", "patient", None, None, {
            "iss": issuer.iss, "encounter": launched.encounter, "outcome": "import offered"})
        return _offer(request, user, issuer, config, launched), None
    if patient is None or not patient.episodes:
        return None, "This patient has no episode in sijcare (no identifier matched)."
    record_event(db, user.id, "smart_launch", "patient", patient.id, patient.clinic_id, {
        "iss": issuer.iss, "encounter": launched.encounter})
    episode = max(patient.episodes, key=lambda e: (e.closed_on is None, e.opened_on, e.id))
    return f"/episodes/{episode.id}", None


@router.get("/callback", name="smart.callback")
async def callback(request: Request, code: Param = None, state: Param = None,
                   error: Param = None) -> Response:
    expected = request.cookies.get(COOKIE)
    if not state or not expected or not secrets.compare_digest(state, expected):
        return _refused(request, 400, "The launch did not start in this browser.")
    pending = await in_db(request, lambda db: spend_launch(db, state))
    if pending is None:
        return _refused(request, 400, "The launch expired or was already used; launch again.")
    if error or not code:
        return _refused(request, 403, "The EHR did not authorize the launch.")
    issuer = request.app.state.smart_issuers.get(pending.issuer)
    verifier = pending.code_verifier
    try:
        config = await run_in_threadpool(discover, issuer.iss)
        launched = await run_in_threadpool(complete, config, issuer, _redirect_uri(request),
                                           code, verifier, request.app.state.settings.clock())
    except LaunchFailed as failure:
        return _refused(request, 502, str(failure))
    url, refusal = await in_db(request, lambda db: _sign_in_and_find(request, db, issuer,
                                                                     config, launched))
    if url is None:
        answer = _refused(request, 403 if "account" in (refusal or "") else 404, refusal or "")
    else:
        answer = RedirectResponse(url, status_code=303)
    answer.delete_cookie(COOKIE, path="/smart")
    return answer

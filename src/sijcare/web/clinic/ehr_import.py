"""Importing the patient of a SMART launch from the EHR, when sijcare does not know them.

The launch lands on the offer (`GET /imports/ehr?grant=`), naming the patient as the EHR
has them. Accepted, the patient's record is read from the EHR's FHIR server with the
launch's access token, kept server-side and refreshed with its refresh token if it has
expired (`web.ehr.grants`); the resources are then imported as an uploaded Bundle is
(`imports`: the same reading, matching, summary and audit, every fact "imported, not
reviewed"), and the new patient's page opens. A patient the import cannot place on its own
(the same name and birth date as one of the clinic's) gets the upload's summary, to confirm.

The EHR is asked before any database work, so no connection, and on SQLite no turn at the
database, waits on the EHR's servers.
"""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from sijcare.interop.fhir.importing import import_received
from sijcare.interop.fhir.reading import BadFile, read_bytes
from sijcare.store import RecordError
from sijcare.web.audit import Audited, AuditNote
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import registering_clinic
from sijcare.web.clinic.imports import Importing, recorded, summary, uploads
from sijcare.web.clinic.patients import clinic_choices
from sijcare.web.clinic.uploads import Upload
from sijcare.web.deps import DbSession, SubmittedForm, in_db, require
from sijcare.web.ehr.fhir import KINDS, Unavailable, patient_record
from sijcare.web.ehr.grants import Grant, GrantExpired, GrantGone, Grants
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
PATH = "/imports/ehr"
Writing = Annotated[Actor, Depends(require(Permission.clinical_write))]
GONE = ("No launch of yours waits to import this patient (the offer lasts an hour after the "
        "launch): open sijcare from the EHR again.")


def _grants(request: Request) -> Grants:
    return request.app.state.ehr_grants


def _kept(request: Request, handle: str, actor: Actor) -> Grant:
    try:
        return _grants(request).open(handle, actor.id)
    except GrantGone:
        raise HTTPException(404, GONE) from None


def _offer(request: Request, db: Session, actor: Actor, handle: str, grant: Grant,
           error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "clinic/imports/ehr.html", {
        "grant": handle, "shown": grant.shown, "iss": grant.iss, "kinds": KINDS,
        "clinics": clinic_choices(db, actor), "error": error}, status_code=status_code)


@router.get(PATH, name="imports.ehr_offer")
def offer(request: Request, db: DbSession, actor: Importing, note: Audited,
          grant: str = "") -> Response:
    note.object_type = "import"
    return _offer(request, db, actor, grant, _kept(request, grant, actor))


def _clinic(actor: Actor, raw: FormData) -> int:
    clinic = raw.get("clinic_id")
    return registering_clinic(actor, int(clinic) if isinstance(clinic, str) and
                              clinic.isdigit() else None)


def _imported(request: Request, db: Session, actor: Actor, handle: str, grant: Grant,
              clinic_id: int, bundle: bytes) -> Response:
    """The import of the EHR's resources as an uploaded Bundle, audited alike (its `via`
    naming the EHR); the patient's page, or the summary when something needs a clinician."""
    name = f"ehr-Patient-{re.sub(r'[^A-Za-z0-9.-]', '_', grant.patient)[:64]}.json"
    try:
        report = import_received(db, [read_bytes(name, bundle)], clinic_id, actor.id)
    except BadFile as error:  # raised before anything is written
        return _offer(request, db, actor, handle, grant,
                      f"The EHR's record cannot be imported: {error}", 422)
    upload = Upload(uploads(request).keep(actor.id, clinic_id, [(name, bundle)]), clinic_id,
                    [(name, bundle)])
    note = AuditNote("import", clinic_id=clinic_id)
    recorded(request, db, actor, note, upload, report, via=f"SMART launch from {grant.iss}"[:200])
    done = [p for p in report.patients if p.status in ("created", "matched")]
    if len(report.patients) == 1 and done:
        return RedirectResponse(f"/patients/{done[0].patient_id}", status_code=303)
    return summary(request, db, upload, report)


@router.post(PATH, name="imports.ehr")
async def import_from_ehr(request: Request, actor: Writing, raw: SubmittedForm) -> Response:
    """The launch patient's record read from the EHR (the token refreshed if it expired),
    then imported; the grant is forgotten once used."""
    handle = str(raw.get("grant") or "")
    grant = _kept(request, handle, actor)
    try:
        clinic_id = _clinic(actor, raw)
    except RecordError as error:
        problem = error.problems[0][1]
        return await in_db(request, lambda db: _offer(request, db, actor, handle, grant,
                                                      problem, 422))
    issuer = request.app.state.smart_issuers.get(grant.iss)
    if issuer is None:
        raise HTTPException(404, GONE)
    try:
        resources = await run_in_threadpool(
            _grants(request).fresh, handle, grant, (issuer.client_id, issuer.client_secret),
            lambda token: patient_record(grant.iss, token, grant.patient))
    except GrantExpired:
        _grants(request).forget(handle)
        raise HTTPException(409, "The EHR's authorization has expired and the EHR gave no "
                                 "way to renew it: open sijcare from the EHR again.") from None
    except Unavailable:
        raise HTTPException(502, "The EHR's FHIR server could not be read; try again, or "
                                 "open sijcare from the EHR again.") from None
    bundle = json.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": r} for r in resources]}).encode()
    answer = await in_db(request, lambda db: _imported(request, db, actor, handle, grant,
                                                        clinic_id, bundle))
    _grants(request).forget(handle)
    return answer

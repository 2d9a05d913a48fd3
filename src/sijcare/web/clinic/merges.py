"""Merging two records of one person, for clinicians: from the page of one record, into the
other (`store/merges.py` moves everything and deletes nothing; an admin can undo it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import func, select
from starlette.responses import RedirectResponse, Response

from sijcare.store import Patient, RecordError
from sijcare.store.duplicates import possible_duplicates
from sijcare.store.merges import merge_patients, merge_problem, merges_into
from sijcare.store.models import AppointmentRequest
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import patient_scope
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm
from sijcare.web.forms import FormField
from sijcare.web.strict import IdFilter, parse_whole
from sijcare.web.submissions import attach, read_fields
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Merging = Annotated[Patient, Depends(patient_scope(Permission.clinical_write))]
MERGE_REASON = FormField("reason", "Why these records are one person", "text",
                         hint="E.g. registered twice, the family name mistyped. An "
                              "administrator can undo the merge.")


def _survivor(db: DbSession, actor: Actor, into: int | None) -> Patient:
    """The record to keep: one of the actor's clinics' patients, else 404."""
    survivor = db.get(Patient, into) if into else None
    if survivor is None or not actor.sees_clinic(survivor.clinic_id):
        raise HTTPException(404, "No such patient in your clinics.")
    return survivor


def _page(request: Request, db: DbSession, merged: Patient, survivor: Patient,
          values: dict, errors: dict, status_code: int = 200) -> Response:
    requests = db.scalar(select(func.count()).select_from(AppointmentRequest).where(
        AppointmentRequest.patient_id == merged.id)) or 0
    return render(request, "clinic/patients/merge.html", {
        "merged": merged, "survivor": survivor, "requests": requests,
        "refusal": merge_problem(merged, survivor), "fields": [MERGE_REASON],
        "fields_by_name": {MERGE_REASON.name: MERGE_REASON}, "values": values,
        "errors": errors}, status_code=status_code)


@router.get("/patients/{patient_id}/merge", name="patients.merge_confirm")
def confirm(request: Request, db: DbSession, actor: CurrentActor, patient: Merging,
            into: IdFilter = None) -> Response:
    """Both records side by side, what will move, and why they are one person."""
    return _page(request, db, patient, _survivor(db, actor, into), {}, {})


@router.post("/patients/{patient_id}/merge", name="patients.merge")
def merge(request: Request, db: DbSession, actor: CurrentActor, patient: Merging,
          note: Audited, form: SubmittedForm) -> Response:
    try:
        into = parse_whole(str(form.get("into", "")))
    except ValueError:  # only an edited form sends none
        raise HTTPException(422, "Say which record to keep (into).") from None
    survivor = _survivor(db, actor, into)
    values, errors, data = read_fields([MERGE_REASON], form)
    if not errors:
        try:
            done = merge_patients(db, patient.id, survivor.id, data.get("reason"), actor.id)
        except RecordError as error:
            attach(error.problems, errors, values)
    if errors:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _page(request, db, patient, survivor, values, errors, 422)
    note.detail.update(into=survivor.id, merge=done.id)
    request.state.session.say(f"Records merged: everything of record #{patient.id} is now "
                              "on this one. An administrator can undo the merge.")
    return RedirectResponse(f"/patients/{survivor.id}", status_code=303)


def merge_context(db: DbSession, patient: Patient) -> dict:
    """For the patient page: the record this one was merged into, the records merged into
    this one, and the clinic's patients who may be the same person (to merge here)."""
    if patient.merged_into_id is not None:
        return {"merged_into": db.get(Patient, patient.merged_into_id), "merged_from": [],
                "duplicates": []}
    return {"merged_into": None, "merged_from": merges_into(db, patient.id),
            "duplicates": possible_duplicates(
                db, patient.clinic_id, patient.given_name, patient.family_name,
                patient.birth_date, patient.external_id, besides=patient.id)}

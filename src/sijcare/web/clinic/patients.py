"""Patient pages: the searchable list, registration, one patient's demographics and their
correction, and opening, closing and reopening episodes."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from sijcare.knowledge import load_knowledge
from sijcare.store import (
    Clinic,
    Episode,
    Patient,
    RecordError,
    close_episode,
    correct_patient,
    corrections_of,
    create_episode,
    create_patient,
    reopen_episode,
)
from sijcare.store import search_patients as search
from sijcare.store.recent import note_opened
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import clinic_scope, episode_scope, patient_scope, registering_clinic
from sijcare.web.clinic.banner import banner_page
from sijcare.web.clinic.duplicates import CONFIRM_NEW, unconfirmed_duplicates
from sijcare.web.clinic.forms import CLOSING, CORRECTION_REASON, EPISODE_FIELDS, patient_fields
from sijcare.web.clinic.merges import merge_context
from sijcare.web.deps import CurrentActor, DbSession, Page, SubmittedForm
from sijcare.web.forms import Choices, FormField
from sijcare.web.strict import Search
from sijcare.web.submissions import attach, read_fields
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
PER_PAGE = 25

Listing = Annotated[Actor, Depends(clinic_scope(Permission.demographics_read))]
Registering = Annotated[Actor, Depends(clinic_scope(Permission.patient_register))]
Reading = Annotated[Patient, Depends(patient_scope(Permission.demographics_read))]
Opening = Annotated[Patient, Depends(patient_scope(Permission.patient_register))]
Managing = Annotated[Episode, Depends(episode_scope(Permission.patient_register))]


def clinic_choices(db: DbSession, actor: Actor) -> Choices:
    rows = db.execute(select(Clinic.id, Clinic.name).where(Clinic.id.in_(actor.clinic_ids))
                      .order_by(Clinic.name))
    return tuple((str(cid), name) for cid, name in rows)


@router.get("/patients", name="patients.list")
def patient_list(request: Request, db: DbSession, actor: Listing, note: Audited,
                 q: Search = "",
                 page: Page = 1, sort: str = "family_name") -> Response:
    try:
        patients, total = search(db, sorted(actor.clinic_ids), q, page, PER_PAGE, sort)
    except RecordError:  # an unknown sort from an edited URL: the page keeps its default
        sort = "family_name"
        patients, total = search(db, sorted(actor.clinic_ids), q, page, PER_PAGE, sort)
    note.object_type = "patient_list"
    note.detail.update(query=q, page=page, shown=[p.id for p in patients])
    return render(request, "clinic/patients/list.html", {
        "patients": patients, "total": total, "q": q, "page": page, "sort": sort,
        "pages": max(1, math.ceil(total / PER_PAGE))})


def _registration(request: Request, db: DbSession, actor: Actor, values: dict,
                  errors: dict, status_code: int = 200,
                  candidates: list[Patient] | None = None) -> Response:
    fields = patient_fields(clinic_choices(db, actor))
    return render(request, "clinic/patients/new.html", {
        "fields": fields, "fields_by_name": {f.name: f for f in fields}, "values": values,
        "errors": errors, "candidates": candidates or [], "confirm": CONFIRM_NEW},
        status_code=status_code)


@router.get("/patients/new", name="patients.new")
def new_patient(request: Request, db: DbSession, actor: Registering) -> Response:
    return _registration(request, db, actor, {}, {})


@router.post("/patients", name="patients.register")
def register_patient(request: Request, db: DbSession, actor: Registering, note: Audited,
                     form: SubmittedForm) -> Response:
    clinics = clinic_choices(db, actor)
    fields = patient_fields(clinics)
    values, errors, data = read_fields(fields, form)
    requested = data.pop("clinic_id", None)
    try:  # even with typing errors, so that every problem shows at once
        clinic_id = registering_clinic(actor, None if requested is None else int(requested))
        if not errors and (candidates := unconfirmed_duplicates(db, clinic_id, data, form)):
            note.detail["outcome"] = "possible duplicate"
            return _registration(request, db, actor, values, {}, 200, candidates)
        patient = create_patient(db, clinic_id, data, actor.id)
    except RecordError as error:
        attach(error.problems, errors, values)
    if errors:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _registration(request, db, actor, values, errors, 422)
    note.object_id, note.clinic_id = str(patient.id), patient.clinic_id
    request.state.session.say("Patient registered.")  # the cookie holds no patient data
    return RedirectResponse(f"/patients/{patient.id}", status_code=303)


def _patient_page(request: Request, db: DbSession, patient: Patient,
                  values: dict | None = None, errors: dict | None = None,
                  status_code: int = 200, notice: str | None = None) -> Response:
    return banner_page(request, db, "clinic/patients/show.html", {
        "patient": patient, "clinic": patient.clinic, "episodes": patient.episodes,
        "episode_fields": EPISODE_FIELDS,
        "fields_by_name": {f.name: f for f in EPISODE_FIELDS},
        "values": values or {"opened_on": date.today().isoformat()}, "errors": errors or {},
        "closing": CLOSING, "today": date.today().isoformat(), "notice": notice,
        "corrections": corrections_of(db, patient.id), **merge_context(db, patient),
        "payer_name": load_knowledge().policies[patient.payer].name if patient.payer else None},
        status_code=status_code)


@router.get("/patients/{patient_id}", name="patients.view")
def patient_page(request: Request, db: DbSession, actor: CurrentActor,
                 patient: Reading) -> Response:
    note_opened(db, actor.id, patient.id)  # the header's "recent patients"
    return _patient_page(request, db, patient)


def _correction_fields() -> list[FormField]:
    """Every demographic as at registration (not the clinic), and why it is corrected."""
    return [*patient_fields(()), CORRECTION_REASON]


def _correction(request: Request, db: DbSession, patient: Patient, fields: list[FormField],
                values: dict, errors: dict, status_code: int = 200) -> Response:
    return banner_page(request, db, "clinic/patients/edit.html", {
        "patient": patient, "fields": fields, "fields_by_name": {f.name: f for f in fields},
        "values": values, "errors": errors}, status_code=status_code)


@router.get("/patients/{patient_id}/edit", name="patients.edit")
def edit_patient(request: Request, db: DbSession, patient: Opening) -> Response:
    fields = _correction_fields()
    values = {f.name: "" if (v := getattr(patient, f.name, None)) is None
              else v.isoformat() if isinstance(v, date) else str(v) for f in fields}
    return _correction(request, db, patient, fields, values, {})


@router.post("/patients/{patient_id}/edit", name="patients.correct")
def correct(request: Request, db: DbSession, actor: CurrentActor, patient: Opening,
            note: Audited, form: SubmittedForm) -> Response:
    """Corrected demographics; every changed value is kept with who changed it and why."""
    fields = _correction_fields()
    values, errors, data = read_fields(fields, form)
    reason = data.pop("reason", "")
    try:  # even with typing errors, so that every problem shows at once
        corrections = correct_patient(db, patient.id, data, reason, actor.id)
    except RecordError as error:
        attach(error.problems, errors, values)
    if errors:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _correction(request, db, patient, fields, values, errors, 422)
    note.detail["fields"] = [c.field for c in corrections]
    request.state.session.say("Demographics corrected; the old values are kept.")
    return RedirectResponse(f"/patients/{patient.id}", status_code=303)


@router.post("/patients/{patient_id}/episodes", name="episodes.open")
def open_episode(request: Request, db: DbSession, actor: CurrentActor, patient: Opening,
                 note: Audited, form: SubmittedForm) -> Response:
    values, errors, data = read_fields(EPISODE_FIELDS, form)
    try:
        episode = create_episode(db, patient.id, data, actor.id)
    except RecordError as error:
        attach(error.problems, errors, values)
    if errors:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _patient_page(request, db, patient, values, errors, 422)
    note.detail["episode_id"] = episode.id
    request.state.session.say("Episode opened.")
    target = f"/episodes/{episode.id}" if actor.may(
        Permission.clinical_read) else f"/patients/{patient.id}"
    return RedirectResponse(target, status_code=303)


@router.post("/episodes/{episode_id}/close", name="episodes.close")
def close(request: Request, db: DbSession, actor: CurrentActor, episode: Managing,
          note: Audited, form: SubmittedForm) -> Response:
    values, errors, data = read_fields([CLOSING], form)
    if "closed_on" not in data and not errors:
        errors["closed_on"] = "enter the day the episode closed"
    if not errors:
        try:
            close_episode(db, episode.id, date.fromisoformat(data["closed_on"]), actor.id)
        except RecordError as error:
            attach(error.problems, errors, values)
    if errors:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _patient_page(request, db, episode.patient, status_code=422,
                             notice="The episode was not closed: " + "; ".join(errors.values()))
    request.state.session.say("Episode closed.")
    return RedirectResponse(f"/patients/{episode.patient_id}", status_code=303)


@router.post("/episodes/{episode_id}/reopen", name="episodes.reopen")
def reopen(request: Request, db: DbSession, actor: CurrentActor, episode: Managing,
           note: Audited) -> Response:
    try:
        reopen_episode(db, episode.id, actor.id)
    except RecordError as error:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _patient_page(request, db, episode.patient, status_code=422,
                             notice="The episode was not reopened: " + error.problems[0][1])
    request.state.session.say("Episode reopened.")
    return RedirectResponse(f"/patients/{episode.patient_id}", status_code=303)

"""The clinic's inbox of appointment requests from the public site (staff and clinicians).

A request is reached only through `request_scope`, the same gate as patients: role first,
then clinic membership (another clinic's request answers 404), and every read and write is
audited. Turning a request into a patient reuses its name and date of birth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from sijcare.notify.delivery import confirmation_deliveries
from sijcare.screen_questions import answers_in_words
from sijcare.store import Patient, RecordError
from sijcare.store.appointments import (
    STATUSES,
    list_requests,
    register_from_request,
    set_status,
)
from sijcare.store.models import AppointmentRequest
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import RowId, _admit, clinic_scope
from sijcare.web.clinic.duplicates import CONFIRM_NEW, unconfirmed_duplicates
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm
from sijcare.web.submissions import plain
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
SEX_CHOICES = (("female", "Female"), ("male", "Male"), ("other", "Other"),
               ("unknown", "Unknown"))
RESULT_WORDS = {"fits_sij": "Fits SI-joint pain", "exam_decides": "Examination decides",
                "unlikely_sij": "SI joint unlikely", "seek_urgent_care": "Urgent care"}


def request_scope(permission: Permission) -> Callable[..., AppointmentRequest]:
    def dependency(request_id: RowId, db: DbSession, actor: CurrentActor, note: Audited
                   ) -> AppointmentRequest:
        return _admit(actor, note, permission, "appointment_request", request_id,
                      lambda: db.get(AppointmentRequest, request_id), lambda r: r.clinic_id)

    return dependency


Listing = Annotated[Actor, Depends(clinic_scope(Permission.demographics_read))]
Reading = Annotated[AppointmentRequest, Depends(request_scope(Permission.demographics_read))]
Handling = Annotated[AppointmentRequest, Depends(request_scope(Permission.patient_register))]


@router.get("/inbox", name="inbox.list")
def inbox(request: Request, db: DbSession, actor: Listing, note: Audited,
          status: Annotated[str, Query(max_length=20)] = "new") -> Response:
    shown = status if status in STATUSES else None
    requests = list_requests(db, sorted(actor.clinic_ids), shown)
    note.object_type = "appointment_request_list"
    note.detail.update(status=shown or "all", shown=[r.id for r in requests])
    return render(request, "clinic/inbox_list.html", {
        "requests": requests, "status": shown or "all", "statuses": STATUSES,
        "result_words": RESULT_WORDS, "confirmations": confirmation_deliveries(db, requests)})


def _request_page(request: Request, db: DbSession, item: AppointmentRequest,
                  errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status_code: int = 200, candidates: list[Patient] | None = None) -> Response:
    return render(request, "clinic/inbox_show.html", {
        "candidates": candidates or [], "confirm": CONFIRM_NEW,
        "confirmation": confirmation_deliveries(db, [item])[item.id],
        "item": item, "answers": answers_in_words(item.screen_answers or {}),
        "result_words": RESULT_WORDS, "sex_choices": SEX_CHOICES, "errors": errors or {},
        "values": values or {"complaint": "Low back or buttock pain (appointment request)",
                             "opened_on": dt.date.today().isoformat()}},
        status_code=status_code)


@router.get("/inbox/{request_id}", name="inbox.view")
def view_request(request: Request, db: DbSession, item: Reading) -> Response:
    return _request_page(request, db, item)


@router.post("/inbox/{request_id}/status", name="inbox.status")
def change_status(request: Request, db: DbSession, actor: CurrentActor, item: Handling,
                  note: Audited, form: SubmittedForm) -> Response:
    status = str(form.get("status", ""))
    try:
        set_status(db, item, status, actor.id)
    except RecordError as error:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _request_page(request, db, item, dict(error.problems), status_code=422)
    note.detail["status"] = status
    request.state.session.say(f"Request marked {status}.")
    return RedirectResponse(f"/inbox/{item.id}", status_code=303)


@router.post("/inbox/{request_id}/register", name="inbox.register")
def register(request: Request, db: DbSession, actor: CurrentActor, item: Handling,
             note: Audited, form: SubmittedForm) -> Response:
    """A registered patient with an open episode, from the request's own details."""
    values = {k: str(form.get(k, "")).strip() for k in ("sex", "external_id", "complaint",
                                                        "opened_on")}
    if item.patient_id is None and (candidates := unconfirmed_duplicates(db, item.clinic_id, {
            "given_name": item.given_name, "family_name": item.family_name,
            "birth_date": item.birth_date.isoformat(),
            "external_id": values["external_id"] or None}, form)):
        note.detail["outcome"] = "possible duplicate"
        return _request_page(request, db, item, values=values, candidates=candidates)
    try:
        register_from_request(db, item, values, actor.id)
    except RecordError as error:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _request_page(request, db, db.get(AppointmentRequest, item.id) or item,
                             {p or "": plain(m) for p, m in error.problems}, values, 422)
    note.detail.update(patient_id=item.patient_id, episode_id=item.episode_id)
    request.state.session.say("Patient registered from the request, with an open episode.")
    return RedirectResponse(f"/patients/{item.patient_id}", status_code=303)

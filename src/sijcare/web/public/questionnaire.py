"""The patient's questionnaire page, reached by a link: no account, one use, nothing shown but
a first name and the questions.

NRS, the ODI (section titles and the 0-5 scale; the full item wording only from a file the
clinic holds a licence for, `SIJCARE_ODI_TEXT_FILE`), PGIC and a comment. A used, expired,
replaced or edited link gets a page saying so and no data. Every request counts against a
per-address limit (the token is the only secret; guessing it must stay slow).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from sijcare.instruments.odi_text import odi_sections
from sijcare.labels import questionnaire as questionnaire_name
from sijcare.notify.reminders import OPT_OUT, opt_out
from sijcare.store import Patient, RecordError, record_event
from sijcare.store.public_forms import admit_attempt
from sijcare.store.questionnaires import (
    COMMENT_MAX,
    LinkRefused,
    OpenLink,
    answer_link,
    open_link,
)
from sijcare.tokens import LinkError, check_link
from sijcare.web.deps import DbSession, SubmittedForm
from sijcare.web.forms import ODI_SECTIONS, PGIC
from sijcare.web.public.guard import address_key
from sijcare.web.public.page import render_public
from sijcare.web.strict import parse_whole

router = APIRouter(include_in_schema=False)
REQUESTS_ALLOWED, WINDOW_SECONDS = 30, 10 * 60
REFUSED = {  # reason -> (status, what the patient reads)
    "tampered": (404, "This link is not valid. It may have been cut short when it was copied: "
                      "open it from the email again, or ask the clinic for a new one."),
    "used": (410, "These questions have already been answered with this link. Thank you. "
                  "If you want to add something, please contact the clinic."),
    "replaced": (410, "The clinic has sent you a newer link for these questions; please use "
                      "that one."),
    "expired": (410, "This link has expired. Please ask the clinic for a new one."),
}


def _throttled(request: Request, db: Session) -> Response | None:
    """A 429 page once one address made too many requests; counted in the database, so the
    limit holds across server processes and restarts."""
    now = dt.datetime.fromtimestamp(request.app.state.settings.clock(), dt.UTC)
    if admit_attempt(db, "questionnaire", address_key(request), now.replace(tzinfo=None),
                     REQUESTS_ALLOWED, dt.timedelta(seconds=WINDOW_SECONDS)):
        return None
    wait = WINDOW_SECONDS
    response = render_public(request, "public/questionnaire_refused.html", {
        "message": "Too many attempts from this connection. Please wait a few minutes and "
                   "try again."}, status_code=429)
    response.headers["retry-after"] = str(wait)
    return response


def _refused(request: Request, reason: str) -> Response:
    status, message = REFUSED[reason]
    return render_public(request, "public/questionnaire_refused.html", {"message": message},
                  status_code=status)


def _form(request: Request, token: str, opened: OpenLink, values: dict[str, Any],
          errors: dict[str, str], status_code: int = 200) -> Response:
    return render_public(request, "public/questionnaire.html", {
        "token": token, "first_name": opened.first_name, "instruments": opened.instruments,
        "which": questionnaire_name(opened.link.point),
        "odi": odi_sections(), "pgic": PGIC, "values": values, "errors": errors,
        "comment_max": COMMENT_MAX}, status_code=status_code)


@router.get("/q/{token}", name="questionnaire.form")
def questionnaire(request: Request, db: DbSession, token: str) -> Response:
    if (throttled := _throttled(request, db)) is not None:
        return throttled
    try:
        opened = open_link(db, token, request.app.state.settings.accepted_keys())
    except LinkRefused as refused:
        return _refused(request, refused.reason)
    record_event(db, None, "read", "questionnaire_link", opened.link.id, opened.clinic_id,
                 {"episode_id": opened.link.episode_id, "via": "questionnaire_link"})
    return _form(request, token, opened, {}, {})


def _answers(raw: FormData) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The posted answers as numbers (an ODI section left blank is unanswered), what was
    typed, and the inputs that are not a whole number in digits, by name."""
    unreadable: dict[str, str] = {}

    def number(name: str) -> int | None:
        text = raw.get(name)
        if not isinstance(text, str) or not text.strip():
            return None
        try:
            return parse_whole(text.strip())
        except ValueError as problem:
            unreadable.setdefault(name.split(".")[0], str(problem))
            return None

    answers = {"nrs": number("nrs"), "pgic": number("pgic"),
               "odi": [number(f"odi.{i}") for i in range(1, len(ODI_SECTIONS) + 1)]}
    values = {key: raw.get(key) for key in raw}
    return answers, values, unreadable


@router.post("/q/{token}", name="questionnaire.answer")
def answer(request: Request, db: DbSession, token: str, raw: SubmittedForm) -> Response:
    if (throttled := _throttled(request, db)) is not None:
        return throttled
    secret = request.app.state.settings.accepted_keys()
    answers, values, unreadable = _answers(raw)
    comment = raw.get("comment")
    try:
        if unreadable:  # nothing is saved; a refused link says so first
            opened = open_link(db, token, secret)
            return _form(request, token, opened, values,
                         unreadable, status_code=422)
        answer_link(db, token, secret, answers, comment if isinstance(comment, str) else None)
    except LinkRefused as refused:
        db.rollback()
        return _refused(request, refused.reason)
    except RecordError as error:
        db.rollback()
        opened = open_link(db, token, secret)
        errors = {path.split(".")[0]: message for path, message in error.problems}
        return _form(request, token, opened, values, errors,
                     status_code=422)
    return render_public(request, "public/questionnaire_done.html", {})


def _opt_out_patient(request: Request, token: str) -> int | None:
    try:
        subject = check_link(request.app.state.settings.accepted_keys(), OPT_OUT, token)
    except LinkError:
        return None
    return int(subject) if subject.isdigit() else None


@router.get("/q/stop/{token}", name="questionnaire.stop_form")
def stop_form(request: Request, db: DbSession, token: str) -> Response:
    if (throttled := _throttled(request, db)) is not None:
        return throttled
    if _opt_out_patient(request, token) is None:
        return _refused(request, "tampered")
    return render_public(request, "public/questionnaire_stop.html", {"token": token, "done": False})


@router.post("/q/stop/{token}", name="questionnaire.stop")
def stop(request: Request, db: DbSession, token: str) -> Response:
    if (throttled := _throttled(request, db)) is not None:
        return throttled
    patient_id = _opt_out_patient(request, token)
    if patient_id is None:
        return _refused(request, "tampered")
    _record_opt_out(db, patient_id)
    return render_public(request, "public/questionnaire_stop.html", {"token": token, "done": True})


def _record_opt_out(db: Session, patient_id: int) -> None:
    patient = db.get(Patient, patient_id)
    if patient is not None:
        opt_out(db, patient_id)
        record_event(db, None, "opt_out", "reminder_contact", patient_id, patient.clinic_id)

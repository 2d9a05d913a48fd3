"""Asking for an appointment: after the self-check or from any page.

Stored only with explicit consent; the person gets a confirmation email through the outbox
(which holds no health details and nothing they typed, within the confirmation limits of
`notify.confirmations`), and the clinic's staff find the request in their inbox.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.responses import RedirectResponse, Response

from sijcare.engine.screen import self_screen
from sijcare.notify import send_due
from sijcare.notify.confirmations import queue_confirmation
from sijcare.store.appointments import CONFIRMATION, create_request, public_clinics
from sijcare.store.errors import RecordError
from sijcare.store.models import Clinic
from sijcare.web.deps import DbSession, SubmittedForm
from sijcare.web.public.guard import HONEYPOT, address_key, check_submission, start_token
from sijcare.web.public.page import render_public
from sijcare.web.public.screen import carried_answers

router = APIRouter(include_in_schema=False)
FORM = "appointment"
FIELDS = ("given_name", "family_name", "birth_date", "email", "phone", "preferred_times",
          "message")
LABELS = {"given_name": "First name", "family_name": "Last name",
          "birth_date": "Date of birth", "email": "Email", "phone": "Phone",
          "preferred_times": "Good times to reach you", "message": "Message",
          "consent": "Consent to keep your request", "clinic_id": "Clinic",
          "": "Your request"}


def _call_us(settings: Any) -> str:
    return f"call us on {settings.clinic_phone}" if settings.clinic_phone else "call the clinic"


def _form_page(request: Request, clinics: list[Clinic], values: dict[str, Any],
               errors: dict[str, str], screen: str = "", status_code: int = 200) -> Response:
    """The form, or, with no clinic to ask, the page that says so (and how to call) before
    anyone types a word."""
    settings = request.app.state.settings
    if not clinics:
        return render_public(request, "public/appointment_closed.html", {
            "call": _call_us(settings)}, status_code=503)
    return render_public(request, "public/appointment.html", {
        "values": values, "errors": errors, "labels": LABELS, "screen": screen,
        "clinics": clinics if len(clinics) > 1 else [], "call": _call_us(settings),
        "started": start_token(request, FORM), "honeypot": HONEYPOT}, status_code=status_code)


@router.get("/appointment", name="appointment.form")
def appointment_form(request: Request, db: DbSession) -> Response:
    return _form_page(request, public_clinics(db, request.app.state.settings.clinic_name),
                      {}, {})


@router.post("/appointment/with-self-check", name="appointment.with_screen")
def appointment_after_screen(request: Request, db: DbSession, form: SubmittedForm) -> Response:
    """The form again, carrying the self-check answers (not stored until it is sent)."""
    answers = carried_answers(str(form.get("screen", "")))
    clinics = public_clinics(db, request.app.state.settings.clinic_name)
    return _form_page(request, clinics, {}, {},
                      screen="" if answers is None else str(form["screen"]))


def _confirmation(settings: Any) -> tuple[str, str]:
    """Subject and text in the clinic's words only: whoever typed the address may not be its
    owner, so not even the name they gave goes in."""
    subject = f"We received your appointment request - {settings.clinic_name}"
    phone = f" or call us on {settings.clinic_phone}" if settings.clinic_phone else ""
    text = (f"Hello,\n\nThank you for asking {settings.clinic_name} for an "
            "appointment. We have your request and will contact you soon to arrange a time."
            f"\n\nTo change or cancel it, reply to this email{phone}. Please do not send "
            "health details by email.\n\nIf your pain gets much worse, or you have numbness "
            "between your legs, trouble passing or holding urine or stool, or a leg getting "
            "weaker, do not wait for us: go to an emergency department.\n\n"
            f"{settings.clinic_name}\n")
    return subject, text


@router.post("/appointment", name="appointment.send")
def send_request(request: Request, db: DbSession, form: SubmittedForm,
                 background: BackgroundTasks) -> Response:
    settings = request.app.state.settings
    values = {name: str(form.get(name, "")) for name in (*FIELDS, "clinic_id")}
    screen = str(form.get("screen", ""))
    clinics = public_clinics(db, settings.clinic_name)
    verdict = check_submission(request, db, FORM, form)
    if verdict.robot:
        return RedirectResponse("/appointment/sent", status_code=303)  # tell it nothing
    if verdict.limited:
        return _form_page(request, clinics, values, {
            "": f"Too many requests from this connection. Please try again in an hour, or "
                f"{_call_us(settings)}."}, screen, 429)
    if verdict.too_fast:
        return _form_page(request, clinics, values, {"": "That was very quick. Please check "
                                                     "your answers and send the form again."},
                          screen, 422)
    chosen = (clinics[0] if len(clinics) == 1 else
              next((c for c in clinics if str(c.id) == values["clinic_id"]), None))
    answers = carried_answers(screen)
    data = {name: values[name] for name in FIELDS} | {
        "consent": form.get("consent") == "yes" or None}
    try:
        saved = create_request(
            db, chosen.id if chosen else None, data,
            None if answers is None else answers.model_dump(mode="json", exclude_none=True),
            None if answers is None else self_screen(answers).model_dump(mode="json"))
    except RecordError as error:
        # nothing was stored; the counted attempt is kept, so failed tries count too
        errors: dict[str, str] = {}
        for path, message in error.problems:
            if path == "consent":
                message = "please tick the box to let us keep your request"
            errors.setdefault(path if path in LABELS else "", message)
        return _form_page(request, clinics, values, errors, screen, 422)
    if saved.email:
        subject, text = _confirmation(settings)
        email = queue_confirmation(db, settings.secret_key, address_key(request), saved.email,
                                   subject, text, kind=CONFIRMATION)
        saved.confirmation_outbox_id = email.id if email else None  # the inbox shows it
        saved.confirmation_withheld = email is None
        if email:
            background.add_task(send_due, request.app.state.sessions, settings.smtp)
    return RedirectResponse("/appointment/sent", status_code=303)


@router.get("/appointment/sent", name="appointment.sent")
def request_sent(request: Request) -> Response:
    return render_public(request, "public/appointment_sent.html")

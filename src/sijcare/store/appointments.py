"""Appointment requests from the public site: stored only with consent, read only by the
clinic's staff and clinicians, turned into a registered patient without retyping."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, StringConstraints, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sijcare.model.case import IsoDate, Record
from sijcare.store.audit import record_event
from sijcare.store.contacts import checked_email, checked_phone
from sijcare.store.errors import RecordError
from sijcare.store.models import AppointmentRequest, Clinic, OutboxEmail, utcnow
from sijcare.store.patients import _form, create_episode, create_patient
from sijcare.store.plausible import EMAIL as EMAIL  # where the reminders and newsletter look

Status = Literal["new", "contacted", "declined", "registered"]
CONFIRMATION = "appointment_confirmation"  # the outbox kind of a request's confirmation
SAME_TRANSACTION = dt.timedelta(minutes=1)  # a confirmation is queued with its request
STATUSES: tuple[Status, ...] = ("new", "contacted", "declined", "registered")


def _line(max_length: int) -> Any:
    """One line of text: control characters (a header injection, a stray NUL) refused."""

    def no_controls(value: str) -> str:
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must be one line of plain text")
        return value

    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=max_length), AfterValidator(no_controls)]


class AppointmentForm(Record):
    """What the public form may send; every field has a length limit."""

    given_name: _line(100)  # type: ignore[valid-type]
    family_name: _line(100)  # type: ignore[valid-type]
    birth_date: IsoDate
    email: _line(254) | None = None  # type: ignore[valid-type]
    phone: _line(40) | None = None  # type: ignore[valid-type]
    preferred_times: _line(200) | None = None  # type: ignore[valid-type]
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    consent: Literal[True]

    @field_validator("email", "phone", "preferred_times", "message", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        """An empty optional input was left out, not given as empty text."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return checked_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return checked_phone(value)

    @field_validator("birth_date")
    @classmethod
    def _born(cls, value: dt.date) -> dt.date:
        if not dt.date(1900, 1, 1) <= value <= dt.date.today():
            raise ValueError("must be a real date of birth, not in the future")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> AppointmentForm:
        if self.email is None and self.phone is None:
            raise ValueError("email: give an email address or a phone number, so we can "
                             "reach you")
        return self


def public_clinics(session: Session, name: str) -> list[Clinic]:
    """The clinics the public site takes requests for: the one named in the settings
    (SIJCARE_CLINIC_NAME), else every clinic, by name, for the person to choose from (a
    one-clinic installation needs no setting and asks nothing)."""
    named = session.scalar(select(Clinic).where(Clinic.name == name))
    if named is not None:
        return [named]
    return list(session.scalars(select(Clinic).order_by(Clinic.name)))


CHOOSE_CLINIC = "choose the clinic you want to see"


def create_request(session: Session, clinic_id: int | None, data: dict[str, Any],
                   screen_answers: dict[str, Any] | None = None,
                   screen_result: dict[str, Any] | None = None) -> AppointmentRequest:
    """Store a request (RecordError naming every wrong field, and nothing stored); with no
    clinic chosen among several, `clinic_id` is None and that is one of the problems."""
    missing = [] if clinic_id is not None else [("clinic_id", CHOOSE_CLINIC)]
    try:
        form: AppointmentForm = _form(AppointmentForm, data, None)
    except RecordError as error:
        raise RecordError(missing + error.problems) from None
    if missing:
        raise RecordError(missing)
    request = AppointmentRequest(clinic_id=clinic_id, consent_at=utcnow(),
                                 screen_answers=screen_answers, screen_result=screen_result,
                                 **form.model_dump(exclude={"consent"}))
    session.add(request)
    session.flush()
    record_event(session, None, "create", "appointment_request", request.id, clinic_id,
                 {"route": "public.appointment", "with_screen": screen_answers is not None})
    return request


def list_requests(session: Session, clinic_ids: list[int], status: Status | None = None,
                  limit: int = 200) -> list[AppointmentRequest]:
    """The clinics' requests, newest first."""
    query = select(AppointmentRequest).where(AppointmentRequest.clinic_id.in_(clinic_ids))
    if status is not None:
        query = query.where(AppointmentRequest.status == status)
    return list(session.scalars(query.order_by(AppointmentRequest.created_at.desc(),
                                               AppointmentRequest.id.desc()).limit(limit)))


def count_new(session: Session, clinic_ids: list[int]) -> int:
    return session.scalar(select(func.count()).select_from(AppointmentRequest).where(
        AppointmentRequest.clinic_id.in_(clinic_ids), AppointmentRequest.status == "new")) or 0


def set_status(session: Session, request: AppointmentRequest, status: str,
               actor_id: int) -> None:
    """Mark a request contacted or declined; a registered one stays registered."""
    if status not in ("new", "contacted", "declined"):
        raise RecordError([("status", "choose new, contacted or declined")])
    if request.status == "registered":
        raise RecordError([("status", "this request is already a registered patient")])
    request.status, request.status_changed_by = status, actor_id
    request.status_changed_at = utcnow()
    session.flush()


def register_from_request(session: Session, request: AppointmentRequest,
                          data: dict[str, Any], actor_id: int) -> AppointmentRequest:
    """A patient and an episode from the request's own details; `data` adds only what the
    request does not hold (sex, clinic number, complaint, opening day)."""
    if request.patient_id is not None:
        raise RecordError([("", "this request is already a registered patient")])
    patient = create_patient(session, request.clinic_id, {
        "given_name": request.given_name, "family_name": request.family_name,
        "birth_date": request.birth_date.isoformat(), "sex": data.get("sex"),
        "external_id": data.get("external_id") or None,
        "email": request.email, "phone": request.phone}, actor_id)  # how they asked to be reached
    episode = create_episode(session, patient.id, {
        "complaint": data.get("complaint"), "opened_on": data.get("opened_on")}, actor_id)
    request.patient_id, request.episode_id = patient.id, episode.id
    request.status, request.status_changed_by = "registered", actor_id
    request.status_changed_at = utcnow()
    session.flush()
    return request


def link_confirmations(session: Session) -> int:
    """Link requests stored before migration 0018 to the email that confirmed them: the
    confirmation to their address queued in the same transaction, within `SAME_TRANSACTION`
    of the request, and no other request's. Derived data, so `store.db.upgrade` runs it;
    linked or held-back requests are left alone. Returns how many were linked."""
    linked = set(session.scalars(select(AppointmentRequest.confirmation_outbox_id).where(
        AppointmentRequest.confirmation_outbox_id.is_not(None))))
    mails: dict[str, list[OutboxEmail]] = {}
    for mail in session.scalars(select(OutboxEmail).where(OutboxEmail.kind == CONFIRMATION)
                                .order_by(OutboxEmail.id)):
        if mail.id not in linked:
            mails.setdefault(mail.to_address, []).append(mail)
    count = 0
    for request in session.scalars(select(AppointmentRequest).where(
            AppointmentRequest.email.is_not(None),
            AppointmentRequest.confirmation_outbox_id.is_(None),
            AppointmentRequest.confirmation_withheld.is_(None)).order_by(AppointmentRequest.id)):
        waiting = mails.get(request.email or "", [])
        found = next((m for m in waiting if request.created_at <= m.created_at
                      <= request.created_at + SAME_TRANSACTION), None)
        if found is not None:
            waiting.remove(found)
            request.confirmation_outbox_id = found.id
            count += 1
    session.flush()
    return count

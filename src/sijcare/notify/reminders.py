"""Follow-up reminders: a questionnaire link by email for each open point, through the outbox.

`send_link` is the clinician's "send link" on the worklist; `queue_reminders` is what
`sijcare reminders send` runs from cron: every point due today whose patient has an email
address and has not opted out, at most one reminder per point per `every_days` days. Both
only add outbox rows in the caller's transaction; the outbox sends them (with its retries).
An email carries the patient's first name, the link and an opt-out link, nothing clinical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.labels import questionnaire
from sijcare.notify.outbox import enqueue
from sijcare.store.appointments import EMAIL
from sijcare.store.errors import RecordError
from sijcare.store.models import (
    Episode,
    FollowUpPoint,
    FollowUpReminder,
    Patient,
    QuestionnaireLink,
    ReminderContact,
    utcnow,
)
from sijcare.store.questionnaires import DEFAULT_DAYS, issue_link
from sijcare.tokens import sign_link

OPT_OUT = "reminders-opt-out"
DEFAULT_EVERY_DAYS = 7
KIND = "follow_up_reminder"


@dataclass(frozen=True)
class Mailing:
    """What a reminder email needs besides the point: who we are and where links start."""

    secret: bytes
    public_url: str
    clinic_name: str
    link_days: int = DEFAULT_DAYS


def opt_out_token(secret: bytes, patient_id: int) -> str:
    return sign_link(secret, OPT_OUT, str(patient_id))


def save_contact(session: Session, patient_id: int, email: str) -> ReminderContact:
    """The patient's reminder address (saving one does not undo an opt-out)."""
    email = email.strip(" ")  # a tab or line break around it is refused, not trimmed
    if len(email) > 254 or not EMAIL.match(email):
        raise RecordError([("email", "enter one email address, like name@example.org")])
    contact = session.get(ReminderContact, patient_id) or ReminderContact(patient_id=patient_id)
    contact.email, contact.updated_at = email, utcnow()
    session.add(contact)
    session.flush()
    return contact


def opt_out(session: Session, patient_id: int) -> None:
    contact = session.get(ReminderContact, patient_id) or ReminderContact(patient_id=patient_id)
    contact.opted_out_at = contact.opted_out_at or utcnow()
    contact.updated_at = utcnow()
    session.add(contact)
    session.flush()


def _email(session: Session, point: FollowUpPoint, actor_id: int | None,
           mailing: Mailing) -> QuestionnaireLink:
    episode = session.get(Episode, point.episode_id)
    assert episode is not None
    patient = episode.patient
    contact = session.get(ReminderContact, patient.id)
    if contact is None or not contact.email:
        raise RecordError([("email", "no email address is on file for this patient")])
    if contact.opted_out_at is not None:
        raise RecordError([("email", "this patient asked for no more reminders")])
    link, token = issue_link(session, point.id, actor_id, mailing.secret, mailing.link_days)
    base = mailing.public_url.rstrip("/")
    which = questionnaire(point.point)
    text = (f"Hello {patient.given_name},\n\n"
            f"{mailing.clinic_name} would like to know how you are doing after your treatment: "
            f"this is your {which}. The questions take about five minutes:\n\n"
            f"{base}/q/{token}\n\n"
            f"The link works once and until {link.expires_at:%d %B %Y}.\n\n"
            f"To stop these reminders: {base}/q/stop/{opt_out_token(mailing.secret, patient.id)}"
            "\n")
    link.outbox_id = enqueue(session, contact.email,
                             f"{mailing.clinic_name}: your {which}", text, kind=KIND).id
    session.add(FollowUpReminder(episode_id=point.episode_id, point_key=point.key,
                                 link_id=link.id))
    session.flush()
    return link


def send_link(session: Session, point_id: int, actor_id: int, mailing: Mailing,
              email: str | None = None) -> QuestionnaireLink:
    """Email a new link for the point now (saving `email` as the patient's address first)."""
    point = session.get(FollowUpPoint, point_id)
    if point is None:
        raise RecordError([("point", f"no follow-up point {point_id}")])
    if email:
        episode = session.get(Episode, point.episode_id)
        assert episode is not None
        save_contact(session, episode.patient_id, email)
    return _email(session, point, actor_id, mailing)


def queue_reminders(session: Session, mailing: Mailing, today: dt.date,
                    every_days: int = DEFAULT_EVERY_DAYS) -> list[QuestionnaireLink]:
    """A reminder for every point in its window today, not done, whose patient has an address
    and did not opt out, and that had no reminder in the last `every_days` days."""
    since = utcnow() - dt.timedelta(days=every_days)
    recent = (select(FollowUpReminder.id).where(
        FollowUpReminder.episode_id == FollowUpPoint.episode_id,
        FollowUpReminder.point_key == FollowUpPoint.key,
        FollowUpReminder.queued_at > since).exists())
    due = session.scalars(
        select(FollowUpPoint)
        .join(Episode, Episode.id == FollowUpPoint.episode_id)
        .join(Patient, Patient.id == Episode.patient_id)
        .join(ReminderContact, ReminderContact.patient_id == Patient.id)
        .where(FollowUpPoint.done.is_(False), FollowUpPoint.window_from <= today,
               FollowUpPoint.window_to >= today, ReminderContact.email.is_not(None),
               ReminderContact.opted_out_at.is_(None), ~recent)
        .order_by(FollowUpPoint.due, FollowUpPoint.id)).all()
    return [_email(session, point, None, mailing) for point in due]


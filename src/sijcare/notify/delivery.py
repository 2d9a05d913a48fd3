"""Whether an email went out, in words a clinician or a receptionist reads.

An email is an outbox row: queued until the outbox worker sends it, retried while the mail
server refuses, given up after the last retry or a permanent refusal (`MailDelivery`, with why
in plain words from the outbox's `last_error`). Two kinds of mail are followed so: the link
of a follow-up point emailed from the worklist (`questionnaire_links.outbox_id`, shown for
each point's latest link) and the confirmation of an appointment request
(`appointment_requests.confirmation_outbox_id`, shown in the inbox).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from sijcare.store.models import (
    AppointmentRequest,
    FollowUpPoint,
    OutboxEmail,
    QuestionnaireLink,
)

# (what the error from `notify.smtp` contains, what it means): the first match is shown
_PLAIN = (
    ("recipient refused", "the mail server refused the patient's address"),
    ("server said 535", "the mail server did not accept the clinic's mail account"),
    ("Authentication", "the mail server did not accept the clinic's mail account"),
    ("server said 5", "the mail server refused the message"),
    ("server said 4", "the mail server is busy or asked to try later"),
    ("ConnectionRefused", "the mail server could not be reached"),
    ("timed out", "the mail server did not answer in time"),
    ("Timeout", "the mail server did not answer in time"),
    ("SSL", "a secure connection to the mail server could not be made"),
)
UNKNOWN = "the mail server could not take it"


def plain_error(last_error: str | None) -> str | None:
    """The outbox's last error as a clinician reads it (never the raw exception)."""
    if not last_error:
        return None
    return next((words for marker, words in _PLAIN if marker in last_error), UNKNOWN)


@dataclass(frozen=True)
class MailDelivery:
    """Where one email stands: `status` queued, sent or failed, since `at`; `why` says what
    went wrong, in plain words."""

    status: str
    at: dt.datetime
    why: str | None = None

    def said(self, what: str) -> str:
        """The status of `what` (e.g. "Email", "Confirmation") in one line."""
        day = f"{self.at:%Y-%m-%d}"
        return {
            "sent": f"{what} sent {day}",
            "failed": f"{what} not delivered: {self.why or UNKNOWN}",
            "queued": (f"{what} queued {day}, not delivered yet: {self.why}; retried "
                       "automatically" if self.why else f"{what} queued {day}, not sent yet"),
        }[self.status]


def mail_delivery(email: OutboxEmail) -> MailDelivery:
    if email.sent_at is not None:
        return MailDelivery("sent", email.sent_at)
    why = plain_error(email.last_error)
    if email.failed_at is not None:
        return MailDelivery("failed", email.failed_at, why)
    return MailDelivery("queued", email.created_at, why)


@dataclass(frozen=True)
class LinkDelivery(MailDelivery):
    """The latest link of a point: an email's status, or answered, or handed_over (shown in
    the clinic, no email)."""

    @property
    def words(self) -> str:
        day = f"{self.at:%Y-%m-%d}"
        if self.status == "answered":
            return f"Answered {day}"
        if self.status == "handed_over":
            return f"Link shown in the clinic {day}, no email"
        return self.said("Email")


def _delivery(link: QuestionnaireLink, email: OutboxEmail | None) -> LinkDelivery:
    if link.used_at is not None:
        return LinkDelivery("answered", link.used_at)
    if email is None:
        return LinkDelivery("handed_over", link.issued_at)
    mail = mail_delivery(email)
    return LinkDelivery(mail.status, mail.at, mail.why)


def link_deliveries(session: Session, point_ids: Iterable[int]) -> dict[int, LinkDelivery]:
    """Follow-up point id -> its latest link's delivery, for the points that have a link."""
    wanted = sorted(set(point_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(FollowUpPoint.id, QuestionnaireLink, OutboxEmail)
        .join(QuestionnaireLink, and_(QuestionnaireLink.episode_id == FollowUpPoint.episode_id,
                                      QuestionnaireLink.point_key == FollowUpPoint.key))
        .outerjoin(OutboxEmail, OutboxEmail.id == QuestionnaireLink.outbox_id)
        .where(FollowUpPoint.id.in_(wanted))
        .order_by(QuestionnaireLink.id))
    return {point_id: _delivery(link, email)  # later links overwrite earlier ones
            for point_id, link, email in rows}


@dataclass(frozen=True)
class ConfirmationDelivery:
    """The confirmation of an appointment request, as the inbox shows it: `status` is a
    mail's (queued, sent, failed), or no_email, withheld (a confirmation limit held it back:
    the address or the sender's connection had had too many that day) or not_recorded (a
    request from before deliveries were kept)."""

    status: str
    words: str


NO_MAIL = {
    "no_email": "No email given: not confirmed by email",
    "withheld": "Not sent: too many confirmations to this address or from this connection "
                "in a day",
    "not_recorded": "Not known: no confirmation email on record",
}


def _confirmation(request: AppointmentRequest, email: OutboxEmail | None
                  ) -> ConfirmationDelivery:
    if email is not None:
        mail = mail_delivery(email)
        return ConfirmationDelivery(mail.status, mail.said("Confirmation"))
    status = ("no_email" if not request.email else "withheld"
              if request.confirmation_withheld else "not_recorded")
    return ConfirmationDelivery(status, NO_MAIL[status])


def confirmation_deliveries(session: Session, requests: Iterable[AppointmentRequest]
                            ) -> dict[int, ConfirmationDelivery]:
    """Request id -> whether its confirmation went out (one query for the lot)."""
    requests = list(requests)
    ids = sorted({r.confirmation_outbox_id for r in requests} - {None})
    emails = {e.id: e for e in session.scalars(select(OutboxEmail).where(
        OutboxEmail.id.in_(ids)))} if ids else {}
    return {r.id: _confirmation(r, emails.get(r.confirmation_outbox_id or 0))
            for r in requests}


def mail_trouble(session: Session, since: dt.datetime) -> str | None:
    """Why the latest mail since `since` is waiting, if the mail server refused it."""
    error = session.scalar(select(OutboxEmail.last_error).where(
        OutboxEmail.sent_at.is_(None), OutboxEmail.last_error.is_not(None),
        OutboxEmail.created_at >= since).order_by(OutboxEmail.id.desc()).limit(1))
    return plain_error(error)

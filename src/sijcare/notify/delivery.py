"""Whether the mail of a questionnaire link went out, in words a clinician reads.

A link emailed from the worklist is an outbox row (`questionnaire_links.outbox_id`): queued
until the outbox worker sends it, retried while the mail server refuses, given up after the
last retry or a permanent refusal. The worklist shows each point's latest link with that
status and, when sending failed, why, from the outbox's `last_error` in plain words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from sijcare.store.models import FollowUpPoint, OutboxEmail, QuestionnaireLink

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
class LinkDelivery:
    """The latest link of a point: `status` queued, sent, failed, answered or handed_over
    (shown in the clinic, no email); `why` says what went wrong, in plain words."""

    status: str
    at: dt.datetime
    why: str | None = None

    @property
    def words(self) -> str:
        day = f"{self.at:%Y-%m-%d}"
        return {
            "answered": f"Answered {day}",
            "handed_over": f"Link shown in the clinic {day}, no email",
            "sent": f"Email sent {day}",
            "failed": f"Email not delivered: {self.why or UNKNOWN}",
            "queued": (f"Email queued {day}, not delivered yet: {self.why}; retried "
                       "automatically" if self.why else f"Email queued {day}, not sent yet"),
        }[self.status]


def _delivery(link: QuestionnaireLink, email: OutboxEmail | None) -> LinkDelivery:
    if link.used_at is not None:
        return LinkDelivery("answered", link.used_at)
    if email is None:
        return LinkDelivery("handed_over", link.issued_at)
    if email.sent_at is not None:
        return LinkDelivery("sent", email.sent_at)
    why = plain_error(email.last_error)
    if email.failed_at is not None:
        return LinkDelivery("failed", email.failed_at, why)
    return LinkDelivery("queued", email.created_at, why)


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


def mail_trouble(session: Session, since: dt.datetime) -> str | None:
    """Why the latest mail since `since` is waiting, if the mail server refused it."""
    error = session.scalar(select(OutboxEmail.last_error).where(
        OutboxEmail.sent_at.is_(None), OutboxEmail.last_error.is_not(None),
        OutboxEmail.created_at >= since).order_by(OutboxEmail.id.desc()).limit(1))
    return plain_error(error)

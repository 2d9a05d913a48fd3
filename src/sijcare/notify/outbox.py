"""The outbox: mail is written in the caller's transaction and sent later, with retries.

`enqueue` only adds a row, so a request that fails rolls its email back with everything else,
and a slow or absent SMTP server never slows a page. `deliver_due` sends what is due; a
temporary failure waits longer each time (`BACKOFF`), a permanent one (or the last retry)
marks the message failed, and its error stays on the row for whoever looks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sijcare.notify.smtp import DeliveryError, SmtpSettings, send
from sijcare.store.models import OutboxEmail, utcnow
from sijcare.store.plausible import EMAIL

# Wait after the 1st, 2nd, ... failed attempt; after the last one the message has failed.
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30),
           dt.timedelta(hours=2), dt.timedelta(hours=8))
BATCH = 50
MAX_ADDRESS, MAX_SUBJECT = 254, 200


@dataclass
class Delivery:
    """What one `deliver_due` run did, by outbox id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def enqueue(session: Session, to: str, subject: str, text: str, html: str | None = None,
            kind: str = "message", not_before: dt.datetime | None = None) -> OutboxEmail:
    """Queue one email (naive-UTC `not_before` for mail that must wait, e.g. reminders)."""
    to, subject = to.strip(), " ".join(subject.split())
    # one plain address, as every form checks it: a line break of any kind (CR, LF, U+2028,
    # NEL, a tab...) or a second address would become a header or a recipient of its own
    if len(to) > MAX_ADDRESS or not EMAIL.match(to):
        raise ValueError(f"not one email address: {to!r}")
    if not subject or len(subject) > MAX_SUBJECT:
        raise ValueError(f"subject must be 1-{MAX_SUBJECT} characters")
    email = OutboxEmail(kind=kind, to_address=to, subject=subject, text=text, html=html,
                        next_attempt_at=not_before or utcnow())
    session.add(email)
    session.flush()
    return email


def message_of(email: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, email.to_address, email.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}")
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message


def _due(session: Session, now: dt.datetime) -> list[OutboxEmail]:
    """Unsent, not given up, due; locked so that two senders never send one twice (other
    workers skip rows being sent on PostgreSQL; SQLite writers already go one at a time)."""
    query = (select(OutboxEmail).where(OutboxEmail.sent_at.is_(None),
                                       OutboxEmail.failed_at.is_(None),
                                       OutboxEmail.next_attempt_at <= now)
             .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(BATCH)
             .with_for_update(skip_locked=True))
    return list(session.scalars(query))


def deliver_due(session: Session, smtp_settings: SmtpSettings,
                now: dt.datetime | None = None) -> Delivery:
    """Send every due message; the caller commits (each row records its outcome)."""
    now = now or utcnow()
    delivery = Delivery()
    for email in _due(session, now):
        email.attempts += 1
        try:
            send(smtp_settings, message_of(email, smtp_settings.sender))
        except DeliveryError as error:
            email.last_error = str(error)[:500]
            if error.permanent or email.attempts > len(BACKOFF):
                email.failed_at = now
                delivery.failed.append(email.id)
            else:
                email.next_attempt_at = now + BACKOFF[email.attempts - 1]
                delivery.retrying.append(email.id)
        else:
            email.sent_at, email.last_error = now, None
            delivery.sent.append(email.id)
        session.flush()
    return delivery


def send_due(sessions: sessionmaker[Session], smtp_settings: SmtpSettings,
             now: dt.datetime | None = None) -> Delivery:
    """`deliver_due` in a transaction of its own: for background tasks and the CLI."""
    with sessions() as session, session.begin():
        return deliver_due(session, smtp_settings, now)

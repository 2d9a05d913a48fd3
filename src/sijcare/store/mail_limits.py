"""How many confirmation mails one recipient, and one sender's address, may cause in a day.

A public form that mails a confirmation to the address typed into it lets anyone aim the
clinic's mail at anyone: the per-address limit on the forms alone let 13 newsletter
confirmations reach one inbox within a second from 3 addresses. So each confirmation is
counted twice, by a keyed hash of its recipient and of the sender's address, in the database
(the limits hold across server processes) and a mail over either limit is not queued.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.orm import Session

from sijcare.store.models import ConfirmationMail

WINDOW = dt.timedelta(days=1)
PER_RECIPIENT = 3  # a person who asks again (a lost mail, a second request) still gets one
PER_SENDER = 8  # a household or a waiting room on one address still gets its confirmations


def admit_confirmation(session: Session, kind: str, recipient_key: str, sender_key: str,
                       now: dt.datetime) -> bool:
    """Count this confirmation unless its recipient had `PER_RECIPIENT` or its sender's
    address `PER_SENDER` in the last day; True if it may be sent.

    The count and the insert must not interleave with another request's, or a burst would
    pass together: PostgreSQL locks the table for the transaction (confirmations are few);
    SQLite writers already go one at a time. Entries older than a day are dropped as the
    table is used, so it stays small.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE confirmation_mails IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(delete(ConfirmationMail).where(ConfirmationMail.at <= now - WINDOW))
    recent = ConfirmationMail.at > now - WINDOW
    mine, theirs = session.execute(select(
        func.count().filter(ConfirmationMail.recipient_key == recipient_key),
        func.count().filter(ConfirmationMail.sender_key == sender_key),
    ).where(recent, or_(ConfirmationMail.recipient_key == recipient_key,
                        ConfirmationMail.sender_key == sender_key))).one()
    if mine >= PER_RECIPIENT or theirs >= PER_SENDER:
        return False
    session.add(ConfirmationMail(kind=kind, recipient_key=recipient_key, sender_key=sender_key,
                                 at=now))
    session.flush()
    return True

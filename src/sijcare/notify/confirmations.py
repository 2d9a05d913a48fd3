"""Confirmation mails that a visitor's form asks for: limited, and never in the visitor's words.

A newsletter sign-up or an appointment request mails the address typed into the form, so the
form could aim the clinic's mail at anyone. Two rules keep it a confirmation and not a weapon:
each is counted per recipient and per sender's address in the database (`store/mail_limits`),
and over either limit it is quietly not queued (the page reads the same, so nobody learns how
often an address was mailed); and its subject and text are the clinic's own, with nothing the
visitor typed (a greeting "Dear <name>" would carry "Visit https://evil.example to pay" to
whoever the address belongs to).
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.orm import Session

from sijcare.notify.outbox import enqueue
from sijcare.store.mail_limits import admit_confirmation
from sijcare.store.models import OutboxEmail, utcnow


def recipient_key(secret: bytes, address: str) -> str:
    """The keyed hash an address is counted by (however it was capitalised)."""
    return hmac.new(secret, f"confirmation-recipient\n{address.strip().lower()}".encode(),
                    hashlib.sha256).hexdigest()


def queue_confirmation(session: Session, secret: bytes, sender_key: str, to: str,
                       subject: str, text: str, kind: str) -> OutboxEmail | None:
    """Queue the confirmation in the caller's transaction unless a limit says no (None)."""
    if not admit_confirmation(session, kind, recipient_key(secret, to), sender_key, utcnow()):
        return None
    return enqueue(session, to, subject, text, kind=kind)

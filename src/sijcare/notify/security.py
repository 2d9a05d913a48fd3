"""Security notices by email: a locked sign-in, a password reset, a sign-in from a new device,
a break-glass access. Queued in the caller's transaction (`outbox`), so a notice goes out
exactly when what it reports was committed.

To the user (if they left an address) and to every active admin with one. Subjects and texts
are fixed sentences with the username and the time: never a patient's name, never anything a
visitor typed, except the username an attacker tried, which travels only as a quoted value in
the text, never in the subject or a header.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.notify.outbox import enqueue
from sijcare.store.models import User, utcnow

NOTICES = {
    "lockout": ("Sign-in locked after failed attempts",
                "Sign-in to the account {username!r} was locked at {at} UTC after repeated "
                "failed attempts (password or one-time code) from {address}. If this was not "
                "you, tell an administrator."),
    "password_reset": ("Your password was reset",
                       "An administrator reset the password of the account {username!r} at "
                       "{at} UTC; every session of it has ended. If you did not ask for this, "
                       "tell another administrator."),
    "new_device": ("Sign-in from a new device",
                   "The account {username!r} signed in from a browser it had not used before, "
                   "at {at} UTC from {address}. If this was not you, change your password and "
                   "tell an administrator."),
    "second_factor_reset": ("Your second factor was reset",
                            "An administrator removed the authenticator of the account "
                            "{username!r} at {at} UTC; every session of it has ended. You will "
                            "be asked to enrol again at your next sign-in."),
    "break_glass": ("Break-glass access to a patient record",
                    "The account {username!r} opened emergency access to patient {patient_id} "
                    "at {at} UTC, until {until} UTC. Reason given: {reason!r}. Review it in "
                    "the audit log."),
}


def admin_addresses(db: Session) -> list[str]:
    return list(db.scalars(select(User.email).where(
        User.role == "admin", User.active.is_(True), User.email.is_not(None))
        .order_by(User.id)))


def notify_security(db: Session, kind: str, user: User | None, *, admins: bool,
                    **facts: object) -> int:
    """Queue the notice `kind` about `user` to the user and (if `admins`) the admins; returns
    how many were queued. An unknown username (a lockout of nobody) reaches the admins only."""
    subject, text = NOTICES[kind]
    if user is not None:
        facts["username"] = user.username
    body = text.format(at=utcnow().strftime("%Y-%m-%d %H:%M"), **facts)
    recipients = [user.email] if user is not None and user.email else []
    if admins:
        recipients += [a for a in admin_addresses(db) if a not in recipients]
    for address in recipients:
        enqueue(db, address, subject, body, kind=f"security_{kind}")
    return len(recipients)

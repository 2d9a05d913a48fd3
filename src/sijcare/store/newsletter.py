"""Newsletter subscriptions with double opt-in: nothing is sent to an address until its
owner confirms, and every issue carries a link that unsubscribes at once.

Links carry `id:nonce` signed by the caller's key (see `sijcare.tokens`); subscribing
again after unsubscribing draws a new nonce, so old links stop working.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.models import NewsletterSubscription, utcnow

CONFIRM_WITHIN = dt.timedelta(days=14)


def subscribe(session: Session, email: str) -> NewsletterSubscription | None:
    """The subscription to send a confirmation link for, or None when the address is
    already confirmed (nothing to send; the page says the same either way)."""
    email = email.strip().lower()
    found = session.scalar(select(NewsletterSubscription).where(
        NewsletterSubscription.email == email))
    if found is not None and found.confirmed_at and not found.unsubscribed_at:
        return None
    if found is None:
        found = NewsletterSubscription(email=email, nonce=secrets.token_hex(16))
        session.add(found)
    elif found.unsubscribed_at or utcnow() - found.created_at > CONFIRM_WITHIN:
        found.nonce, found.created_at = secrets.token_hex(16), utcnow()
        found.confirmed_at = found.unsubscribed_at = None
    session.flush()
    return found


def link_subject(subscription: NewsletterSubscription) -> str:
    return f"{subscription.id}:{subscription.nonce}"


def find(session: Session, subject: str) -> NewsletterSubscription | None:
    """The subscription a checked link names, if its nonce is still current."""
    sid, _, nonce = subject.partition(":")
    found = session.get(NewsletterSubscription, int(sid)) if sid.isdigit() else None
    return found if found is not None and secrets.compare_digest(found.nonce, nonce) else None


def confirm(session: Session, subscription: NewsletterSubscription) -> bool:
    """Confirm (True), unless the link is too old or the address has since unsubscribed."""
    if subscription.unsubscribed_at or utcnow() - subscription.created_at > CONFIRM_WITHIN:
        return False
    subscription.confirmed_at = subscription.confirmed_at or utcnow()
    session.flush()
    return True


def unsubscribe(session: Session, subscription: NewsletterSubscription) -> None:
    subscription.unsubscribed_at = subscription.unsubscribed_at or utcnow()
    session.flush()


def recipients(session: Session) -> list[NewsletterSubscription]:
    """Confirmed and still subscribed: the only addresses an issue goes to."""
    return list(session.scalars(select(NewsletterSubscription).where(
        NewsletterSubscription.confirmed_at.is_not(None),
        NewsletterSubscription.unsubscribed_at.is_(None)).order_by(NewsletterSubscription.id)))

"""Newsletter mail: the confirmation that completes the double opt-in, and issues that go
only to confirmed subscribers, each with its own unsubscribe link."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sijcare.notify.confirmations import queue_confirmation as queue_limited
from sijcare.notify.outbox import enqueue
from sijcare.store.models import NewsletterSubscription
from sijcare.store.newsletter import link_subject, recipients
from sijcare.tokens import sign_link

CONFIRM, UNSUBSCRIBE = "newsletter-confirm", "newsletter-unsubscribe"


def confirm_url(secret: bytes, public_url: str, subscription: NewsletterSubscription) -> str:
    token = sign_link(secret, CONFIRM, link_subject(subscription))
    return f"{public_url}/newsletter/confirm/{token}"


def unsubscribe_url(secret: bytes, public_url: str,
                    subscription: NewsletterSubscription) -> str:
    token = sign_link(secret, UNSUBSCRIBE, link_subject(subscription))
    return f"{public_url}/newsletter/unsubscribe/{token}"


def queue_confirmation(session: Session, secret: bytes, public_url: str, clinic_name: str,
                       subscription: NewsletterSubscription, sender_key: str) -> None:
    """The double opt-in's mail, within the confirmation limits (`notify.confirmations`)."""
    text = (f"Someone, hopefully you, asked for the {clinic_name} newsletter at this address."
            "\n\nTo start receiving it, open this link and press Confirm:\n"
            f"{confirm_url(secret, public_url, subscription)}\n\nIf it was not you, ignore "
            "this email: nothing will be sent to you.\n\nTo stop any further mail from us: "
            f"{unsubscribe_url(secret, public_url, subscription)}\n")
    queue_limited(session, secret, sender_key, subscription.email,
                  f"Please confirm your newsletter sign-up - {clinic_name}", text,
                  kind="newsletter_confirmation")


def queue_issue(session: Session, secret: bytes, public_url: str, subject: str,
                text: str) -> int:
    """Queue one issue for every confirmed subscriber; returns how many were queued."""
    sent = 0
    for subscription in recipients(session):
        link = unsubscribe_url(secret, public_url, subscription)
        enqueue(session, subscription.email, subject,
                f"{text.rstrip()}\n\n--\nUnsubscribe at once: {link}\n", kind="newsletter")
        sent += 1
    return sent

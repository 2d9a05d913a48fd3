"""How often one address may send a public form, and that each form shown is sent once:
both kept in the database, so they hold across server processes and restarts."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sijcare.store.models import PublicFormAttempt, SpentFormToken


def admit_attempt(session: Session, form: str, address_key: str, now: dt.datetime,
                  allowed: int, window: dt.timedelta) -> bool:
    """Count this attempt unless `allowed` were already made in `window`; True if admitted.

    Entries older than a day are dropped as the table is used, so it stays small."""
    session.execute(delete(PublicFormAttempt).where(
        PublicFormAttempt.at < now - max(window, dt.timedelta(days=1))))
    recent = session.scalar(select(func.count()).select_from(PublicFormAttempt).where(
        PublicFormAttempt.form == form, PublicFormAttempt.address_key == address_key,
        PublicFormAttempt.at > now - window)) or 0
    if recent >= allowed:
        return False
    session.add(PublicFormAttempt(form=form, address_key=address_key, at=now))
    session.flush()
    return True


def spend_token(session: Session, token: str, now: dt.datetime, lifetime: dt.timedelta) -> bool:
    """Mark a form's start token as sent; False if it was sent before (a replay).

    The token's hash is the key, so of two requests sending it at once only one inserts it
    (the other's insert fails inside its savepoint). Tokens older than `lifetime` can no
    longer be accepted anyway, so their rows are dropped as the table is used."""
    session.execute(delete(SpentFormToken).where(SpentFormToken.spent_at < now - lifetime))
    try:
        with session.begin_nested():
            session.add(SpentFormToken(token_hash=hashlib.sha256(token.encode()).hexdigest(),
                                       spent_at=now))
    except IntegrityError:
        return False
    return True

"""How often one address may send a public form: counted in the database, so the limit
holds across server processes and restarts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sijcare.store.models import PublicFormAttempt


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

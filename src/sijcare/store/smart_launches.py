"""SMART launches under way: the PKCE verifier kept server-side until the callback spends it."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sijcare.store.models import SmartLaunch, utcnow

LIFETIME = dt.timedelta(minutes=10)


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def begin_launch(db: Session, state: str, issuer: str, code_verifier: str) -> None:
    db.execute(delete(SmartLaunch).where(SmartLaunch.created_at < utcnow() - LIFETIME))
    db.add(SmartLaunch(state_hash=_hash(state), issuer=issuer, code_verifier=code_verifier,
                       created_at=utcnow()))
    db.flush()


def spend_launch(db: Session, state: str) -> SmartLaunch | None:
    """The launch this `state` began, once and within its lifetime; None otherwise."""
    row = db.scalars(select(SmartLaunch).where(SmartLaunch.state_hash == _hash(state))).first()
    if row is None:
        return None
    db.delete(row)
    db.flush()
    return row if row.created_at >= utcnow() - LIFETIME else None

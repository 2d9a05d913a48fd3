"""Entries typed into a form whose session had ended, kept for the user who typed them.

The web app seals the entries (they may hold clinical facts) before they come here; the store
keeps the sealed text under a hash of the browser's token, for its user only, until it is
taken (once) or expires. Functions flush but never commit, like the rest of the store.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sijcare.store.models import KeptEntries
from sijcare.store.web_sessions import token_hash


def keep_entries(db: Session, token: str, user_id: int, path: str, sealed: str, now: float,
                 keep_seconds: float) -> None:
    """Keep one submission; expired ones of anybody are forgotten on the way."""
    db.execute(delete(KeptEntries).where(KeptEntries.expires_at < now))
    db.add(KeptEntries(token_hash=token_hash(token), user_id=user_id, path=path, sealed=sealed,
                       kept_at=now, expires_at=now + keep_seconds))
    db.flush()


def take_entries(db: Session, token: str, user_id: int, now: float) -> KeptEntries | None:
    """The kept submission for this token if it is `user_id`'s and not expired; it is removed
    (used once). Another user's token finds nothing and removes nothing."""
    kept = db.scalar(select(KeptEntries).where(KeptEntries.token_hash == token_hash(token),
                                               KeptEntries.user_id == user_id,
                                               KeptEntries.expires_at >= now))
    if kept is not None:
        db.delete(kept)
        db.flush()
    return kept


def waiting_entries(db: Session, user_id: int, now: float) -> int:
    """How many kept submissions of the user wait to be saved."""
    return len(db.scalars(select(KeptEntries.token_hash).where(
        KeptEntries.user_id == user_id, KeptEntries.expires_at >= now)).all())

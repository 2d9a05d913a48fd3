"""Server-side sign-ins (`WebSession`): opened at sign-in, checked on every request, deleted
at sign-out, so every server process on the database agrees, also after a restart.

The cookie carries a random token; only its SHA-256 is stored, so the table alone cannot be
replayed as cookies. Functions flush but never commit, like the rest of the store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from sijcare.store.models import User, WebSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Standing:
    """A sign-in as the database holds it, with what is needed to judge it still valid."""

    user_id: int
    password_fingerprint: str
    signed_in_at: float
    last_seen: float
    active: bool
    password_hash: str


def open_web_session(db: Session, token: str, user_id: int, password_fingerprint: str,
                     now: float) -> None:
    db.add(WebSession(token_hash=token_hash(token), user_id=user_id,
                      password_fingerprint=password_fingerprint, signed_in_at=now,
                      last_seen=now))
    db.flush()


def end_web_session(db: Session, token: str) -> None:
    db.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def end_user_sessions(db: Session, user_id: int) -> int:
    """End every sign-in of a user (deactivated, password reset); how many were open.

    A changed password or `users.active = false` already refuses the user's sessions on their
    next request; this also removes them at once."""
    return db.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount


def forget_stale_sessions(db: Session, last_seen_before: float) -> None:
    """Rows of sign-ins idle since before `last_seen_before` (they can no longer be valid)."""
    db.execute(delete(WebSession).where(WebSession.last_seen < last_seen_before))


def standing(connection: Connection, token: str) -> Standing | None:
    """The sign-in of `token` and its user's current state, or None if there is none."""
    row = connection.execute(
        select(WebSession.user_id, WebSession.password_fingerprint, WebSession.signed_in_at,
               WebSession.last_seen, User.active, User.password_hash)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == token_hash(token))).one_or_none()
    return None if row is None else Standing(*row)


def touch_web_session(connection: Connection, token: str, now: float) -> None:
    connection.execute(update(WebSession).where(WebSession.token_hash == token_hash(token))
                       .values(last_seen=now))


def verified_at(db: Session, token: str) -> float | None:
    """When the sign-in of `token` last proved its user (password, and code if enrolled)."""
    row = db.execute(select(WebSession.verified_at, WebSession.signed_in_at)
                     .where(WebSession.token_hash == token_hash(token))).one_or_none()
    return None if row is None else (row[0] or row[1])


def mark_verified(db: Session, token: str, now: float) -> None:
    db.execute(update(WebSession).where(WebSession.token_hash == token_hash(token))
               .values(verified_at=now))

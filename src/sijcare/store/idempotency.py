"""Idempotency keys for writes: a client that sends a key with a write and retries it (after
a timeout, a crash, a dropped connection) gets the first answer again, never a second record.

The key is claimed in the write's own transaction, so the claim and the record commit, or
roll back, together: a retry finds either both or neither. Keys are per user, and kept for
`KEEP` (a day, as long as any client retries): each claim forgets a bounded batch of
expired keys (locked rows skipped, so two writes never wait on each other's purge), and an
expired key may name a new write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sijcare.store.models import IdempotentRequest, utcnow

MAX_KEY_LENGTH = 255
KEEP = dt.timedelta(hours=24)
PURGE_BATCH = 100  # expired keys forgotten per claim: a backlog drains without a long stall


class KeyReused(ValueError):
    """The key was sent before with another request (another body, method or path)."""


class KeyInFlight(ValueError):
    """A request with this key is being carried out right now."""


@dataclass(frozen=True)
class Answered:
    """The stored answer of the first request with this key."""

    status: int
    body: Any


def claim(session: Session, actor_id: int, key: str, method: str, path: str,
          body: bytes) -> IdempotentRequest | Answered:
    """The claim to fill in with the answer, or the answer stored for this key before."""
    digest = hashlib.sha256(body).hexdigest()
    forget_expired(session, actor_id, key)
    found = session.scalar(select(IdempotentRequest).where(
        IdempotentRequest.actor_id == actor_id, IdempotentRequest.key == key))
    if found is None:
        claimed = IdempotentRequest(actor_id=actor_id, key=key, method=method, path=path,
                                    body_sha256=digest, created_at=utcnow())
        try:
            with session.begin_nested():
                session.add(claimed)
                session.flush()
        except IntegrityError:  # the same key, sent at the same moment, committed first
            raise KeyInFlight(key) from None
        return claimed
    if (found.method, found.path, found.body_sha256) != (method, path, digest):
        raise KeyReused(key)
    if found.status is None:
        raise KeyInFlight(key)
    return Answered(found.status, (found.response or {}).get("body"))


def forget_expired(session: Session, actor_id: int, key: str) -> int:
    """Delete up to `PURGE_BATCH` keys older than `KEEP`, this user's `key` among them if
    expired; how many went."""
    cutoff = utcnow() - KEEP
    expired = IdempotentRequest.created_at < cutoff
    gone = session.execute(delete(IdempotentRequest).where(
        IdempotentRequest.actor_id == actor_id, IdempotentRequest.key == key, expired)).rowcount
    batch = (select(IdempotentRequest.id).where(expired).order_by(IdempotentRequest.created_at)
             .limit(PURGE_BATCH).with_for_update(skip_locked=True))
    return gone + session.execute(delete(IdempotentRequest).where(
        IdempotentRequest.id.in_(batch)), execution_options={"synchronize_session": False}
    ).rowcount


def keep_answer(claimed: IdempotentRequest, status: int, body: Any) -> None:
    """Store the answer on the claim, in the same transaction as the write it answers."""
    claimed.status, claimed.response = status, {"body": body}

"""Rows derived from an episode's records, kept current inside the transaction that changes them.

A flush notes which episodes it changed; just before the transaction commits, their derived
rows are written again in the same transaction, so records and what they imply commit or roll
back together, whoever wrote the records (page, API, demo). A rollback forgets the notes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_KEPT: set[str] = set()  # what is registered already: importing twice must not derive twice


def keep_current(name: str, changed: Callable[[Session], set[int]],
                 derive: Callable[[Session, set[int]], None]) -> None:
    """For every session: after each flush `changed(session)` names the episodes a flush
    touched; before commit `derive(session, episodes)` writes their derived rows again."""
    if name in _KEPT:
        return
    _KEPT.add(name)
    key = f"sijcare_stale_{name}"  # session.info: the episodes to derive again

    def note(session: Session, *_args: Any) -> None:
        if found := changed(session):
            session.info.setdefault(key, set()).update(found)

    def before_commit(session: Session) -> None:
        session.flush()  # so the records of this transaction are all noted
        if stale := session.info.pop(key, set()):
            derive(session, stale)

    def forget(session: Session, *_args: Any) -> None:
        session.info.pop(key, None)

    event.listen(Session, "before_flush", note)
    event.listen(Session, "before_commit", before_commit)
    event.listen(Session, "after_rollback", forget)

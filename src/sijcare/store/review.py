"""A clinician reviews imported records: accepted, a record counts in full; rejected, it is
marked entered in error (kept, never deleted) and leaves the case."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import ImportedRecord, utcnow
from sijcare.store.records import void_record
from sijcare.store.users import require_member

REJECTED = "imported, rejected on review"


def awaiting_review(session: Session, episode_id: int) -> list[ImportedRecord]:
    return list(session.scalars(select(ImportedRecord).where(
        ImportedRecord.episode_id == episode_id, ImportedRecord.review == "unreviewed",
        ImportedRecord.kind.not_in(("patient", "episode"))).order_by(ImportedRecord.id)))


def review_import(session: Session, imported_id: int, accept: bool, actor_id: int,
                  today: dt.date | None = None) -> ImportedRecord:
    """Accept or reject one imported record; audited. RecordError if reviewed already."""
    row = session.get(ImportedRecord, imported_id)
    if row is None or row.episode_id is None or row.kind in ("patient", "episode"):
        raise NotFound(f"no imported record {imported_id}")
    require_member(session, actor_id, row.clinic_id)
    if row.review != "unreviewed":
        raise RecordError([("", f"this imported record was {row.review} already")])
    if not accept:
        void_record(session, row.episode_id, row.kind, row.record_id, actor_id, REJECTED,
                    today or dt.date.today())
    row.review = "accepted" if accept else "rejected"
    row.reviewed_by, row.reviewed_at = actor_id, utcnow()
    session.flush()
    record_event(session, actor_id, "review", row.kind, row.record_id, row.clinic_id,
                 {"episode_id": row.episode_id, "review": row.review})
    return row

"""The audit chain verifies as written, exposes any edit, deletion or insertion, and stays one
chain when many threads append at once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session

from sijcare.store import AuditEvent, record_event, session_factory, verify_chain
from sijcare.store.audit import entry_hash
from sijcare.store.audit_key import audit_key
from tests.store.helpers import migrated

DROP_APPEND_ONLY = {
    "sqlite": ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"],
    "postgresql": ["DROP TRIGGER audit_events_no_change ON audit_events"],
}


@pytest.fixture
def chained(fresh_url: str) -> Iterator[Engine]:
    """A database whose audit log holds ten committed entries."""
    engine = migrated(fresh_url)
    with session_factory(engine).begin() as session:
        for n in range(1, 11):
            record_event(session, n, "read", "patient", n, clinic_id=1,
                         detail={"note": "café", "n": n, "share": 0.1})
    yield engine
    engine.dispose()


def tamper(engine: Engine, *statements: object) -> None:
    """What someone with direct database access could do: lift the trigger, then edit."""
    with engine.begin() as connection:
        for sql in DROP_APPEND_ONLY[engine.dialect.name]:
            connection.execute(text(sql))
        for statement in statements:
            connection.execute(statement)  # type: ignore[call-overload]


def report(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return verify_chain(session).problems


def test_untouched_chain_verifies(chained: Engine) -> None:
    with Session(chained) as session:
        result = verify_chain(session)
    assert result.ok and result.entries == result.head_seq == 10
    assert len(result.head_hash) == 64


def test_edited_entry_is_detected(chained: Engine) -> None:
    tamper(chained, update(AuditEvent).where(AuditEvent.seq == 4).values(actor_id=99))
    assert report(chained) == [
        "entry 4 does not match its hash: it was changed, or an entry before it was removed "
        "or inserted"]


def test_edited_detail_is_detected(chained: Engine) -> None:
    tamper(chained, update(AuditEvent).where(AuditEvent.seq == 7)
           .values(detail={"note": "café", "n": 7, "share": 0.2}))
    assert any(problem.startswith("entry 7 ") for problem in report(chained))


def test_deleted_entry_is_detected(chained: Engine) -> None:
    tamper(chained, AuditEvent.__table__.delete().where(AuditEvent.seq == 5))
    problems = report(chained)
    assert problems[0] == "entries 5 to 5 are missing"
    assert problems[1].startswith("entry 6 does not match")


def test_deleted_tail_is_detected(chained: Engine) -> None:
    tamper(chained, AuditEvent.__table__.delete().where(AuditEvent.seq >= 9))
    assert report(chained) == [
        "the chain head names entry 10 but the log ends at entry 8: entries at the end were "
        "removed or added"]


def test_inserted_entry_is_detected_even_with_a_valid_hash(chained: Engine) -> None:
    with Session(chained) as session:
        five = session.scalars(select(AuditEvent).where(AuditEvent.seq == 5)).one()
        forged = AuditEvent(seq=6, at=five.at, actor_id=666, action="read",
                            object_type="patient", object_id="1", clinic_id=1, detail=None)
        forged.hash = entry_hash(audit_key(), five.hash, forged)  # even with the key
        values = {c.name: getattr(forged, c.name) for c in AuditEvent.__table__.c
                  if c.name != "id"}
    # make room (through a high range, so the unique index never sees a duplicate)
    tamper(chained,
           update(AuditEvent).where(AuditEvent.seq > 5).values(seq=AuditEvent.seq + 1000),
           update(AuditEvent).where(AuditEvent.seq > 1000).values(seq=AuditEvent.seq - 999),
           insert(AuditEvent).values(**values))
    problems = report(chained)
    assert not any(p.startswith("entry 6 ") for p in problems)  # the forgery itself fits...
    assert problems[0].startswith("entry 7 does not match")  # ...but its successor does not
    assert "the chain head names entry 10 but the log ends at entry 11" in problems[-1]


def test_rolled_back_event_leaves_no_trace(chained: Engine) -> None:
    with Session(chained) as session:
        record_event(session, 1, "read", "patient", 1)
        session.rollback()
        result = verify_chain(session)
    assert result.ok and result.entries == 10


def test_concurrent_appends_keep_one_valid_chain(fresh_url: str) -> None:
    engine = migrated(fresh_url)
    factory = session_factory(engine)

    def append(worker: int) -> None:
        for n in range(20):
            with factory.begin() as session:
                session.execute(select(AuditEvent.id).limit(1)).all()  # read first, then write
                record_event(session, worker, "read", "patient", n)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(append, range(8)))
    with factory() as session:
        result = verify_chain(session)
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    engine.dispose()
    assert result.ok, result.problems
    assert result.entries == 160 and seqs == list(range(1, 161))

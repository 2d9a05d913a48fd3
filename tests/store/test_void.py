"""Marking a record "entered in error": left out of the case from that day on, kept before."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.store import (
    AuditEvent,
    BlockRecord,
    NotFound,
    RecordError,
    add_record,
    case_as_of,
    create_episode,
    list_timeline,
    verify_chain,
    void_record,
)
from tests.store.helpers import World
from tests.store.test_cases import history_to_june

D = dt.date
VOIDED = D(2026, 7, 1)


def the_block(session: Session, world: World) -> BlockRecord:
    block = session.scalar(select(BlockRecord).where(BlockRecord.episode_id == world.episode_id))
    assert block is not None
    return block


def test_a_voided_block_leaves_the_case_from_its_day_on(session: Session, world: World) -> None:
    history_to_june(session, world)
    session.commit()
    before = assess(case_as_of(session, world.episode_id, D(2026, 6, 15)))
    assert before.stage == "interventional_treatment"
    block = the_block(session, world)

    void_record(session, world.episode_id, "block", block.id, world.user_id,
                "wrong patient's diary", VOIDED)
    session.commit()
    session.expunge_all()

    again = assess(case_as_of(session, world.episode_id, D(2026, 6, 15)))
    assert again.model_dump_json() == before.model_dump_json()  # what was known then
    assert case_as_of(session, world.episode_id, D(2026, 6, 30)).blocks
    after = case_as_of(session, world.episode_id, VOIDED)
    assert after.blocks is None  # no block recorded any more, not "none done"
    assert assess(after).stage != "interventional_treatment"

    entry = next(e for e in list_timeline(session, world.episode_id) if e.kind == "block")
    assert (entry.voided_on, entry.void_reason) == (VOIDED, "wrong patient's diary")
    assert entry.summary.endswith("(entered in error)")


def test_a_voided_intake_leaves_the_earlier_one_as_the_latest(session: Session,
                                                             world: World) -> None:
    add_record(session, world.episode_id, "intake", {"pain_nrs": 5}, world.user_id, D(2026, 2, 1))
    wrong = add_record(session, world.episode_id, "intake", {"pain_nrs": 9}, world.user_id,
                       D(2026, 3, 1))
    void_record(session, world.episode_id, "intake", wrong.id, world.user_id, "typo", D(2026, 3, 2))
    history = case_as_of(session, world.episode_id, D(2026, 3, 1)).history
    assert history is not None and history.pain_nrs == 9
    history = case_as_of(session, world.episode_id, D(2026, 3, 2)).history
    assert history is not None and history.pain_nrs == 5


def test_a_voided_confirmed_none_is_unknown_again(session: Session, world: World) -> None:
    none = add_record(session, world.episode_id, "imaging", {"none": True}, world.user_id,
                      D(2026, 3, 1))
    void_record(session, world.episode_id, "none", none.id, world.user_id, "wrong episode",
                D(2026, 4, 1))
    assert case_as_of(session, world.episode_id, D(2026, 3, 31)).imaging == []
    assert case_as_of(session, world.episode_id, D(2026, 4, 1)).imaging is None


def test_void_is_audited(session: Session, world: World) -> None:
    row = add_record(session, world.episode_id, "prom",
                     {"date": "2026-02-01", "instrument": "nrs", "value": 6}, world.user_id,
                     D(2026, 2, 1))
    void_record(session, world.episode_id, "prom", row.id, world.user_id, "  duplicate ", VOIDED)
    session.commit()
    last = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert last is not None
    assert (last.actor_id, last.action, last.object_type, last.object_id, last.clinic_id) == (
        world.user_id, "void", "prom", str(row.id), world.clinic_id)
    assert last.detail == {"episode_id": world.episode_id, "voided_on": "2026-07-01"}
    assert row.void_reason == "duplicate" and row.voided_by == world.user_id
    assert verify_chain(session).ok


def test_void_refuses_twice_a_missing_reason_and_a_wrong_episode(session: Session,
                                                                 world: World) -> None:
    row = add_record(session, world.episode_id, "imaging", {"date": "2026-03-01",
                                                            "modality": "xray"},
                     world.user_id, D(2026, 3, 1))
    other = create_episode(session, world.patient_id, {"complaint": "Other",
                                                       "opened_on": "2026-01-10"},
                           world.user_id)
    for reason in ("", "   "):
        with pytest.raises(RecordError, match="reason"):
            void_record(session, world.episode_id, "imaging", row.id, world.user_id, reason,
                        VOIDED)
    with pytest.raises(RecordError, match="reason"):
        void_record(session, world.episode_id, "imaging", row.id, world.user_id, "x" * 201,
                    VOIDED)
    with pytest.raises(NotFound, match=f"no imaging record {row.id} in episode {other.id}"):
        void_record(session, other.id, "imaging", row.id, world.user_id, "typo", VOIDED)
    with pytest.raises(NotFound):
        void_record(session, world.episode_id, "block", row.id, world.user_id, "typo", VOIDED)
    with pytest.raises(RecordError, match="unknown record kind"):
        void_record(session, world.episode_id, "xray", row.id, world.user_id, "typo", VOIDED)
    with pytest.raises(RecordError, match="before the day the record was recorded"):
        void_record(session, world.episode_id, "imaging", row.id, world.user_id, "typo",
                    D(2026, 2, 1))
    assert row.voided_on is None
    void_record(session, world.episode_id, "imaging", row.id, world.user_id, "typo", VOIDED)
    with pytest.raises(RecordError, match="already marked entered in error on 2026-07-01"):
        void_record(session, world.episode_id, "imaging", row.id, world.user_id, "again",
                    D(2026, 8, 1))
    assert (row.voided_on, row.void_reason) == (VOIDED, "typo")

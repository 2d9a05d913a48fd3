"""Procedure outcomes: dated follow-ups of a procedure; the case of a day takes the procedure's
relief from the outcomes known that day, and migration 0006 moves old relief into outcomes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sijcare.model.case import Procedure
from sijcare.store import (
    RecordError,
    add_record,
    case_as_of,
    list_timeline,
    make_engine,
    session_factory,
    upgrade,
)
from sijcare.store.db import _migrate, current_revision, head_revision
from sijcare.store.models import ProcedureOutcome
from sijcare.store.outcomes import ProcedureOutcomeForm, relief_as_of, relief_from_nrs
from sijcare.store.records import void_record
from tests.store.helpers import World, make_world
from tests.store.test_migrations import no_drift

INJECTION = {"date": "2026-06-01", "kind": "steroid_injection", "side": "left",
             "guidance": "fluoroscopy"}
D = dt.date.fromisoformat


def procedure(session: Session, world: World, **relief: Any) -> int:
    return add_record(session, world.episode_id, "procedure", {**INJECTION, **relief},
                      world.user_id, "2026-06-01").id


def outcome(session: Session, world: World, procedure_id: int, recorded_on: str,
            **fields: Any) -> ProcedureOutcome:
    data = {"procedure_id": procedure_id, "date": recorded_on, **fields}
    row = add_record(session, world.episode_id, "procedure_outcome", data, world.user_id,
                     recorded_on)
    assert isinstance(row, ProcedureOutcome)
    return row


def relief(session: Session, world: World, day: str) -> tuple[Any, Any, Any]:
    [injection] = case_as_of(session, world.episode_id, D(day)).procedures or []
    return injection.relief_percent, injection.relief_weeks, injection.relief_ongoing


def test_relief_comes_from_outcomes_known_that_day(session: Session, world: World) -> None:
    pid = procedure(session, world)
    outcome(session, world, pid, "2026-06-15", nrs_before=8, nrs_after=2, relief_weeks=2,
            relief_ongoing=True, pgic=2)
    outcome(session, world, pid, "2026-09-01", relief_weeks=10, relief_ongoing=False,
            complications=[])
    session.commit()
    assert relief(session, world, "2026-06-14") == (None, None, None)  # the old assessment
    assert relief(session, world, "2026-06-15") == (75, 2, True)
    assert relief(session, world, "2026-09-01") == (75, 10, False)


def test_outcome_is_stored_typed_audited_and_on_the_timeline(session: Session,
                                                              world: World) -> None:
    pid = procedure(session, world)
    row = outcome(session, world, pid, "2026-06-15", nrs_before=7, nrs_after=3, pgic=3,
                  complications=["vasovagal"])
    session.commit()
    stored = session.get(ProcedureOutcome, row.id)
    assert stored is not None
    assert (stored.relief_percent, stored.pgic, stored.complications) == (57.1, 3, ["vasovagal"])
    entry = next(e for e in list_timeline(session, world.episode_id)
                 if e.kind == "procedure_outcome")
    assert "57.1% relief" in entry.summary and "PGIC 3" in entry.summary


def test_relief_typed_with_the_procedure_becomes_its_first_outcome(session: Session,
                                                                   world: World) -> None:
    # recorded on the procedure's day: at most a week of relief (v3; v2's test had 8 weeks)
    pid = procedure(session, world, relief_percent=60, relief_weeks=1, relief_ongoing=True)
    session.commit()
    [first] = session.scalars(select(ProcedureOutcome).where(
        ProcedureOutcome.procedure_id == pid)).all()
    assert (first.date, first.recorded_on) == (D("2026-06-01"), D("2026-06-01"))
    assert relief(session, world, "2026-06-01") == (60, 1, True)


def test_a_voided_outcome_leaves_the_case_from_that_day(session: Session, world: World) -> None:
    pid = procedure(session, world)
    row = outcome(session, world, pid, "2026-06-15", relief_percent=40)
    void_record(session, world.episode_id, "procedure_outcome", row.id, world.user_id,
                "wrong patient", D("2026-07-01"))
    session.commit()
    assert relief(session, world, "2026-06-20") == (40, None, None)
    assert relief(session, world, "2026-07-01") == (None, None, None)


@pytest.mark.parametrize(("fields", "path"), [
    ({"nrs_before": 8}, ""),
    ({"nrs_before": 0, "nrs_after": 0}, ""),
    ({"nrs_before": 8, "nrs_after": 2, "relief_percent": 30}, ""),
    ({}, ""),
    ({"pgic": 8}, "pgic"),
    ({"complications": ["headache_maybe"]}, "complications[0]"),
    ({"relief_percent": 50, "date": "2026-05-01"}, "date"),
])
def test_invalid_outcome_saves_nothing(session: Session, world: World, fields: dict[str, Any],
                                       path: str) -> None:
    pid = procedure(session, world)
    session.commit()
    data = {"procedure_id": pid, "date": "2026-06-15", **fields}
    with pytest.raises(RecordError) as raised:
        add_record(session, world.episode_id, "procedure_outcome", data, world.user_id,
                   "2026-06-15")
    assert path in [where for where, _ in raised.value.problems]
    session.rollback()
    assert session.scalars(select(ProcedureOutcome).where(
        ProcedureOutcome.episode_id == world.episode_id)).all() == []


def test_outcome_must_name_a_procedure_of_this_episode(session: Session, world: World) -> None:
    other = make_world(session)
    pid = procedure(session, other)
    with pytest.raises(RecordError) as raised:
        add_record(session, world.episode_id, "procedure_outcome",
                   {"procedure_id": pid, "date": "2026-06-15", "relief_percent": 50},
                   world.user_id, "2026-06-15")
    assert [where for where, _ in raised.value.problems] == ["procedure_id"]


@given(st.integers(1, 10), st.integers(0, 10))
def test_relief_from_nrs_is_a_share_of_the_pain_before(before: int, after: int) -> None:
    share = relief_from_nrs(before, after)
    assert 0 <= share <= 100
    assert (share == 0) == (after >= before)


outcome_fields = st.fixed_dictionaries({}, optional={
    "relief_percent": st.integers(0, 100), "relief_weeks": st.integers(0, 60),
    "relief_ongoing": st.booleans(), "pgic": st.integers(1, 7)})


@given(st.lists(outcome_fields.filter(bool), max_size=6))
def test_later_outcomes_set_relief_and_duration_comes_as_a_pair(
        fields: list[dict[str, Any]]) -> None:
    forms = [ProcedureOutcomeForm(procedure_id=1, date=D("2026-06-15"), **f) for f in fields]
    base = Procedure(date=D("2026-06-01"), kind="prp")
    result = relief_as_of(base, forms)
    percents = [f.relief_percent for f in forms if f.relief_percent is not None]
    durations = [(f.relief_weeks, f.relief_ongoing) for f in forms
                 if f.relief_weeks is not None or f.relief_ongoing is not None]
    assert result.relief_percent == (percents[-1] if percents else None)
    assert (result.relief_weeks, result.relief_ongoing) == (durations[-1] if durations
                                                            else (None, None))


def test_migration_0006_moves_relief_into_outcomes_and_back(fresh_url: str) -> None:
    """A 0005 database (the last before 0006) with procedure relief: after 0006 each relief is
    an outcome dated the day the procedure was recorded, the case of every day is the same,
    and downgrading puts the relief back on the procedure."""
    engine = make_engine(fresh_url)
    upgrade(engine)  # the world is written through today's models, then taken back to 0005
    with session_factory(engine)() as session:
        world = make_world(session)
    with engine.begin() as connection:
        _migrate(connection, ("downgrade", "0005"))
    with engine.begin() as connection:
        for pid, recorded, percent, weeks, ongoing in ((1, "2026-06-05", 70, 12, False),
                                                       (2, "2026-08-01", None, None, None)):
            connection.execute(text(
                "INSERT INTO procedures (id, episode_id, recorded_on, recorded_by, created_at, "
                "date, kind, relief_percent, relief_weeks, relief_ongoing) VALUES (:id, :e, :r, "
                ":u, '2026-06-05 10:00:00', :r, 'steroid_injection', :p, :w, :o)"),
                {"id": pid, "e": world.episode_id, "r": recorded, "u": world.user_id,
                 "p": percent, "w": weeks, "o": ongoing})
    try:
        with engine.begin() as connection:
            _migrate(connection, ("upgrade", "head"))
        assert current_revision(engine) == head_revision()
        no_drift(engine)
        with session_factory(engine)() as session:
            moved = session.scalars(select(ProcedureOutcome)).all()
            assert [(o.procedure_id, o.date, o.relief_percent, o.relief_weeks, o.relief_ongoing)
                    for o in moved] == [(1, D("2026-06-05"), 70, 12, False)]
            [first, second] = case_as_of(session, world.episode_id, D("2026-09-01")).procedures
            assert (first.relief_percent, first.relief_weeks, second.relief_percent) == (
                70, 12, None)
            assert case_as_of(session, world.episode_id, D("2026-06-04")).procedures is None
        with engine.begin() as connection:
            _migrate(connection, ("downgrade", "0005"))
            back = connection.execute(text(
                "SELECT relief_percent, relief_weeks FROM procedures ORDER BY id")).all()
        assert [tuple(row) for row in back] == [(70, 12), (None, None)]
    finally:
        engine.dispose()

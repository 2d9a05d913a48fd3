"""The follow-up schedule in the store: re-derived from the engine in the transaction that
changes an episode's procedures or PROMs, never stale; the worklist and response rates read it."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.engine.facts import Facts
from sijcare.engine.follow_up import follow_up
from sijcare.knowledge import load_knowledge
from sijcare.store import (
    add_record,
    case_as_of,
    refresh_schedule,
    status_on,
    void_record,
    worklist,
)
from sijcare.store.follow_up import response_rates
from sijcare.store.models import FollowUpPoint
from tests.store.helpers import World, make_world

TODAY = dt.date(2026, 11, 1)
D = dt.date.fromisoformat


def stored(session: Session, episode_id: int) -> dict[str, FollowUpPoint]:
    return {p.key: p for p in session.scalars(
        select(FollowUpPoint).where(FollowUpPoint.episode_id == episode_id))}


def procedure(session: Session, world: World, date: str, kind: str = "steroid_injection"
              ) -> int:
    return add_record(session, world.episode_id, "procedure",
                      {"date": date, "kind": kind, "side": "left"}, world.user_id, date).id


def test_points_appear_when_the_transaction_commits(session: Session, world: World) -> None:
    pid = procedure(session, world, "2026-10-01")
    assert stored(session, world.episode_id) == {}  # derived on commit, with the record
    session.commit()
    points = stored(session, world.episode_id)
    assert set(points) == {"baseline", f"2w:{pid}", f"6w:{pid}", "3m", "6m", "12m", "24m"}
    two = points[f"2w:{pid}"]
    assert (two.due, two.window_from, two.window_to) == (D("2026-10-15"), D("2026-10-12"),
                                                         D("2026-10-22"))
    assert (two.procedure_id, two.clinician_id, two.clinic_id) == (pid, world.user_id,
                                                                   world.clinic_id)


def test_a_rollback_derives_nothing(session: Session, world: World) -> None:
    procedure(session, world, "2026-10-01")
    session.rollback()
    session.commit()
    assert stored(session, world.episode_id) == {}


def test_answers_make_a_point_done_and_a_void_removes_its_points(session: Session,
                                                                 world: World) -> None:
    first = procedure(session, world, "2026-08-01")
    second = procedure(session, world, "2026-10-01", "prp")
    session.commit()
    ids = {key: p.id for key, p in stored(session, world.episode_id).items()}
    for instrument, value in (("nrs", 4), ("pgic", 3)):
        add_record(session, world.episode_id, "prom", {
            "date": "2026-10-14", "instrument": instrument, "value": value},
            world.user_id, "2026-10-14")
    session.commit()
    after = stored(session, world.episode_id)
    assert after[f"2w:{second}"].done and not after[f"6w:{first}"].done
    assert {key: p.id for key, p in after.items()} == ids  # updated in place
    void_record(session, world.episode_id, "procedure", second, world.user_id, "wrong side",
                TODAY)
    session.commit()
    assert not any(key.endswith(f":{second}") for key in stored(session, world.episode_id))


def test_status_on_follows_the_window() -> None:
    point = FollowUpPoint(window_from=D("2026-10-12"), window_to=D("2026-10-22"), done=False)
    assert [status_on(point, D(day)) for day in ("2026-10-11", "2026-10-12", "2026-10-22",
                                                 "2026-10-23")] == [
        "upcoming", "due", "due", "missed"]
    point.done = True
    assert status_on(point, D("2026-10-23")) == "done"


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(st.integers(0, 300), min_size=1, max_size=3),
       answered=st.lists(st.integers(0, 300), max_size=3),
       read_on=st.integers(0, 400))
def test_stored_schedule_is_the_engines(session: Session, days: list[int],
                                        answered: list[int], read_on: int) -> None:
    """Whatever was recorded, the stored points (their statuses read on any later day) are
    what the engine says for the case as of that day."""
    world = make_world(session)
    start = D("2025-10-01")
    for day in days:
        on = start + dt.timedelta(days=day)
        add_record(session, world.episode_id, "procedure",
                   {"date": on.isoformat(), "kind": "prp"}, world.user_id, on)
    for day in answered:
        on = start + dt.timedelta(days=day)
        for instrument, value in (("nrs", 5), ("pgic", 3)):
            add_record(session, world.episode_id, "prom",
                       {"date": on.isoformat(), "instrument": instrument, "value": value},
                       world.user_id, on)
    session.commit()
    last = start + dt.timedelta(days=max(days + answered))
    read = last + dt.timedelta(days=read_on)
    engine = follow_up(Facts(case_as_of(session, world.episode_id, read), load_knowledge()))
    points = sorted(stored(session, world.episode_id).values(),
                    key=lambda p: (p.due, p.point, p.procedure_date or p.due))
    assert sorted((p.point, p.due, status_on(p, read)) for p in points) == sorted(
        (e.point, e.due, e.status) for e in engine)


def test_worklist_and_response_rates(session: Session, world: World) -> None:
    procedure(session, world, "2026-10-01")
    session.commit()
    items = worklist(session, [world.clinic_id], D("2026-10-16"))
    assert [(i.point, i.status) for i in items] == [("baseline", "missed"), ("2w", "due"),
                                                    ("6w", "upcoming")]
    assert items[0].family_name.startswith("Tester") and items[1].clinician
    assert [i.point for i in worklist(session, [world.clinic_id], D("2026-10-16"),
                                      statuses=("missed",))] == ["baseline"]
    assert worklist(session, [world.clinic_id + 10**6], D("2026-10-16")) == []
    rates = {r.point: r for r in response_rates(session, [world.clinic_id], D("2026-10-16"))}
    assert set(rates) == {"baseline", "2w"}
    assert (rates["baseline"].missed, rates["2w"].open, rates["2w"].share_answered) == (
        1, 1, None)


def test_refresh_is_idempotent(session: Session, world: World) -> None:
    procedure(session, world, "2026-10-01")
    session.commit()
    before = {k: (p.id, p.due, p.done) for k, p in stored(session, world.episode_id).items()}
    refresh_schedule(session, world.episode_id)
    session.commit()
    assert {k: (p.id, p.due, p.done)
            for k, p in stored(session, world.episode_id).items()} == before


def test_demo_patients_have_follow_up_answered_by_link_and_missed(session: Session) -> None:
    from sijcare.store import load_demo
    from sijcare.store.models import PromRecord

    patients = load_demo(session, today=TODAY)
    session.commit()
    clinic_id = patients[0].clinic_id
    rates = response_rates(session, [clinic_id], TODAY)
    assert sum(r.answered for r in rates) >= 2 and sum(r.missed for r in rates) >= 2
    by_link = session.scalars(select(PromRecord).where(PromRecord.patient_reported)).all()
    assert {p.instrument for p in by_link} == {"nrs", "pgic"} and len(by_link) >= 4
    assert worklist(session, [clinic_id], TODAY)

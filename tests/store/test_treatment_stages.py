"""The stage at treatment: the engine's stage as the clinician saw it on the procedure's day
(without that day's procedures), stored with the procedure and derived again on every change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.store import add_record, case_as_of, upgrade, void_record
from sijcare.store.db import _migrate
from sijcare.store.models import Patient, ProcedureRecord
from tests.store.helpers import World

EXAM = {"provocation": {"distraction": "positive", "thigh_thrust": "positive",
                        "compression": "positive", "sacral_thrust": "negative"},
        "straight_leg_raise": "negative", "neuro_deficit": False}
INTAKE = {"pain_onset": "2025-09-01", "pain_nrs": 8, "side": "left", "below_l5": True,
          "below_knee": False, "fortin_finger": True, "red_flags": []}


def add(session: Session, world: World, kind: str, data: dict[str, Any], on: str) -> int:
    return add_record(session, world.episode_id, kind, data, world.user_id, on).id


def worked_up(session: Session, world: World, block_after: int = 1) -> None:
    """History, a positive cluster, 8 weeks of care and (by default) a positive block."""
    add(session, world, "intake", INTAKE, "2026-02-01")
    add(session, world, "exam", EXAM, "2026-02-01")
    add(session, world, "care_course", {"type": "physical_therapy", "start": "2026-02-01",
                                        "end": "2026-03-29"}, "2026-02-01")
    add(session, world, "block", {"date": "2026-04-15", "guidance": "fluoroscopy",
                                  "side": "left", "diary": [{"minutes": 0, "pain": 8},
                                                            {"minutes": 30,
                                                             "pain": block_after}]},
        "2026-04-15")


def procedure(session: Session, world: World, day: str, kind: str = "steroid_injection",
              **relief: Any) -> int:
    return add(session, world, "procedure", {"date": day, "kind": kind, "side": "left",
                                             "guidance": "fluoroscopy", **relief}, day)


def stages(session: Session, world: World) -> dict[int, str | None]:
    session.expire_all()
    return dict(session.execute(select(ProcedureRecord.id, ProcedureRecord.stage_at_treatment)
                                .where(ProcedureRecord.episode_id == world.episode_id)).all())


def test_the_stage_is_the_one_seen_that_day_not_today(session: Session, world: World) -> None:
    worked_up(session, world)
    first = procedure(session, world, "2026-05-01")
    same_day = procedure(session, world, "2026-05-01", "prp", relief_percent=80,
                         relief_weeks=1, relief_ongoing=True)  # typed with it: known that day
    # (at most a week of relief on the procedure's own day: ENGINE-RULES v3; v2 had 8 weeks)
    assert stages(session, world) == {first: None, same_day: None}  # derived on commit
    session.commit()
    # that day's procedures (and the relief one of them gave) were not yet part of the decision
    assert stages(session, world) == {first: "interventional_treatment",
                                      same_day: "interventional_treatment"}
    later = procedure(session, world, "2026-07-01", "rfa_conventional")
    session.commit()
    assert stages(session, world)[later] == "maintenance"  # the PRP still gave relief then
    today = assess(case_as_of(session, world.episode_id, dt.date(2026, 6, 1))).stage
    assert today == "maintenance" != stages(session, world)[same_day]


def test_a_change_to_any_record_derives_the_stages_again(session: Session, world: World) -> None:
    add(session, world, "intake", INTAKE, "2026-02-01")
    add(session, world, "exam", EXAM, "2026-02-01")
    add(session, world, "care_course", {"type": "physical_therapy", "start": "2026-02-01",
                                        "end": "2026-03-29"}, "2026-02-01")
    pid = procedure(session, world, "2026-05-01")
    session.commit()
    assert stages(session, world) == {pid: "diagnostic_block"}
    block = add(session, world, "block", {  # entered on the procedure's day, dated before
        "date": "2026-04-15", "guidance": "fluoroscopy", "side": "left",
        "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 1}]}, "2026-05-01")
    session.commit()
    assert stages(session, world) == {pid: "interventional_treatment"}
    void_record(session, world.episode_id, "block", block, world.user_id, "wrong patient",
                dt.date(2026, 5, 1))
    session.commit()
    assert stages(session, world) == {pid: "diagnostic_block"}


def test_a_rollback_derives_nothing_and_a_payer_change_derives_again(session: Session,
                                                                     world: World) -> None:
    worked_up(session, world, block_after=3)  # 62.5%: equivocal at Medicare's 75%
    pid = procedure(session, world, "2026-05-01")
    session.commit()
    assert stages(session, world) == {pid: "diagnostic_block"}
    patient = session.get(Patient, world.patient_id)
    patient.payer = "clinic"  # the clinic's profile reads a block at 50%
    session.rollback()
    assert stages(session, world) == {pid: "diagnostic_block"}
    session.get(Patient, world.patient_id).payer = "clinic"
    session.commit()
    assert stages(session, world) == {pid: "interventional_treatment"}


def test_an_upgrade_derives_the_stages_once_the_schema_is_whole(
        engine: Engine, session: Session, world: World) -> None:
    """From 0006 (no stage column) to head through every later record-table change."""
    worked_up(session, world)
    first = procedure(session, world, "2026-05-01", relief_percent=80, relief_weeks=1,
                      relief_ongoing=True)  # v3: no more than a week on the procedure's day
    later = procedure(session, world, "2026-07-01", "prp")
    session.commit()
    derived = stages(session, world)
    session.close()
    with engine.begin() as connection:
        _migrate(connection, ("downgrade", "0006"))
    upgrade(engine)
    with engine.connect() as connection:
        backfilled = dict(connection.execute(text(
            "SELECT id, stage_at_treatment FROM procedures WHERE episode_id = :e"),
            {"e": world.episode_id}).all())
    assert backfilled == derived == {first: "interventional_treatment", later: "maintenance"}

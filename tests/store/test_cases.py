"""`case_as_of` rebuilds the Case of any past day: same day, same case, same assessment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.model.case import Case
from sijcare.store import NotFound, add_record, case_as_of
from tests.store.helpers import TODAY, World

D = dt.date


def put(session: Session, world: World, kind: str, data: dict[str, Any], on: dt.date) -> None:
    add_record(session, world.episode_id, kind, data, world.user_id, on)


def diary(before: float, *after: float) -> list[dict[str, float]]:
    times = (0, 15, 30, 60, 120, 240, 360)
    return [{"minutes": m, "pain": p} for m, p in zip(times, (before, *after), strict=False)]


INTAKE = {"pain_onset": "2026-01-05", "pain_nrs": 7, "side": "left", "below_l5": True,
          "below_knee": False, "fortin_finger": True, "red_flags": [],
          "pain_areas": {"sij_region": 80, "buttock_leg": 20}}
EXAM = {"provocation": {"distraction": "positive", "thigh_thrust": "positive",
                        "compression": "positive", "sacral_thrust": "negative",
                        "gaenslen_left": "negative", "gaenslen_right": "negative"},
        "straight_leg_raise": "negative", "neuro_deficit": False}


def history_to_june(session: Session, world: World) -> None:
    """Intake, exam, care, imaging and a confirmed block, all before mid-June."""
    put(session, world, "intake", INTAKE, D(2026, 2, 1))
    put(session, world, "exam", EXAM, D(2026, 2, 1))
    put(session, world, "care_course", {"type": "physical_therapy", "start": "2026-02-10",
                                        "end": "2026-04-10"}, D(2026, 2, 10))
    put(session, world, "imaging", {"date": "2026-03-01", "modality": "mri", "region": "sij",
                                    "findings": [], "excludes_other_causes": True},
        D(2026, 3, 1))
    put(session, world, "block", {"date": "2026-05-20", "guidance": "fluoroscopy",
                                  "side": "left", "diary": diary(8, 2, 1, 1, 3, 6)},
        D(2026, 5, 20))
    put(session, world, "procedure", {"none": True}, D(2026, 5, 20))
    put(session, world, "prom", {"date": "2026-02-01", "instrument": "nrs", "value": 7},
        D(2026, 2, 1))


def test_nothing_recorded_stays_unknown(session: Session, world: World) -> None:
    case = case_as_of(session, world.episode_id, TODAY)
    recorded = case.model_dump(exclude_none=True)
    assert set(recorded) == {"schema_version", "as_of", "patient"}
    assert recorded["patient"] == {"id": case.patient.id, "birth_date": D(1970, 5, 1),
                                   "sex": "female"}
    result = assess(case)
    assert result.eligibility["diagnostic_sij_injection"].status == "unknown"
    # v3 "could be pregnant" asks only from 12 to 50: pregnancy not recorded at 56 is met
    assert {c.id: c.status for c in result.eligibility["diagnostic_sij_injection"].criteria
            if c.status != "unknown"} == {"not_pregnant": "met"}


def test_confirmed_none_is_an_empty_list_from_its_day_on(session: Session,
                                                         world: World) -> None:
    put(session, world, "imaging", {"none": True}, D(2026, 3, 1))
    put(session, world, "imaging", {"date": "2026-05-01", "modality": "xray"}, D(2026, 5, 2))
    assert case_as_of(session, world.episode_id, D(2026, 2, 28)).imaging is None
    assert case_as_of(session, world.episode_id, D(2026, 3, 1)).imaging == []
    # the x-ray of May 1 was recorded on May 2: as of May 1 nobody knew of it yet
    assert case_as_of(session, world.episode_id, D(2026, 5, 1)).imaging == []
    later = case_as_of(session, world.episode_id, D(2026, 5, 2)).imaging
    assert later is not None and [i.modality for i in later] == ["xray"]
    assert case_as_of(session, world.episode_id, D(2026, 5, 1)).blocks is None


def test_latest_intake_and_exam_win_whole(session: Session, world: World) -> None:
    put(session, world, "intake", {**INTAKE, "pregnant": True}, D(2026, 2, 1))
    put(session, world, "intake", {"pain_nrs": 4}, D(2026, 6, 1))
    put(session, world, "exam", EXAM, D(2026, 2, 1))
    put(session, world, "exam", {"neuro_deficit": True}, D(2026, 2, 1))  # same day, later entry
    early = case_as_of(session, world.episode_id, D(2026, 3, 1))
    assert early.history is not None and early.history.pain_nrs == 7
    assert early.patient.pregnant is True
    assert early.exam is not None and early.exam.neuro_deficit is True
    assert early.exam.provocation is None  # the later exam recorded no tests: not carried over
    late = case_as_of(session, world.episode_id, D(2026, 6, 1))
    assert late.history is not None and late.history.pain_nrs == 4
    assert late.history.side is None and late.patient.pregnant is None


def test_lists_hold_every_entry_up_to_as_of_in_date_order(session: Session,
                                                          world: World) -> None:
    for day, value in [(D(2026, 4, 1), 5), (D(2026, 2, 1), 8), (D(2026, 7, 1), 2)]:
        put(session, world, "prom", {"date": day.isoformat(), "instrument": "nrs",
                                     "value": value}, day)
    proms = case_as_of(session, world.episode_id, D(2026, 6, 30)).proms
    assert proms is not None
    assert [(p.date, p.value) for p in proms] == [(D(2026, 2, 1), 8), (D(2026, 4, 1), 5)]


def test_care_courses_by_start_ongoing_until_their_end(session: Session, world: World) -> None:
    """A course planned to end after the day asked about was still ongoing on that day."""
    put(session, world, "care_course", {"type": "physical_therapy", "start": "2026-02-01",
                                        "end": "2026-09-01"}, D(2026, 2, 1))
    put(session, world, "care_course", {"type": "nsaid", "start": "2026-06-01"}, D(2026, 6, 1))
    courses = case_as_of(session, world.episode_id, D(2026, 5, 1)).conservative_care
    assert courses is not None
    assert [(c.type, c.start, c.end) for c in courses] == [
        ("physical_therapy", D(2026, 2, 1), None)]
    later = case_as_of(session, world.episode_id, D(2026, 10, 1)).conservative_care or []
    assert [(c.type, c.end) for c in later] == [("physical_therapy", D(2026, 9, 1)),
                                                ("nsaid", None)]


def test_block_pain_is_the_diary_baseline_and_lowest_later_rating(session: Session,
                                                                  world: World) -> None:
    put(session, world, "block", {"date": "2026-05-01", "guidance": "ct",
                                  "diary": diary(6, 4, 0.5, 2, 5, 6, 6)}, D(2026, 5, 1))
    [block] = case_as_of(session, world.episode_id, TODAY).blocks or []
    assert (block.pain_before, block.pain_after) == (6, 0.5)
    assert block.diary is not None and len(block.diary) == 7


def test_past_assessment_is_reproducible_after_later_records(session: Session,
                                                             world: World) -> None:
    history_to_june(session, world)
    session.commit()
    past = D(2026, 6, 15)
    before = assess(case_as_of(session, world.episode_id, past))
    assert before.stage == "interventional_treatment"

    put(session, world, "intake", {**INTAKE, "red_flags": ["fever"]}, D(2026, 7, 1))
    put(session, world, "exam", {**EXAM, "neuro_deficit": True}, D(2026, 7, 1))
    put(session, world, "care_course", {"type": "nsaid", "start": "2026-07-01"}, D(2026, 7, 1))
    put(session, world, "block", {"date": "2026-08-01", "guidance": "fluoroscopy",
                                  "diary": diary(7, 7, 6)}, D(2026, 8, 1))
    put(session, world, "procedure", {"date": "2026-07-15", "kind": "steroid_injection",
                                      "relief_percent": 30}, D(2026, 7, 15))
    put(session, world, "prom", {"date": "2026-09-01", "instrument": "pgic", "value": 3},
        D(2026, 9, 1))
    put(session, world, "medications", {"anticoagulant": True}, D(2026, 8, 1))
    session.commit()
    session.expunge_all()

    again = assess(case_as_of(session, world.episode_id, past))
    assert again.model_dump_json() == before.model_dump_json()
    now = assess(case_as_of(session, world.episode_id, TODAY))
    assert now.stage == "urgent_referral"


def test_case_of_a_patient_validates_and_names_them(session: Session, world: World) -> None:
    history_to_june(session, world)
    case = case_as_of(session, world.episode_id, TODAY)
    assert Case.model_validate(case.model_dump()) == case
    assert case.patient.id.startswith("ext-")
    assert case.procedures == [] and case.allergies is None


def test_impossible_days_and_episodes(session: Session, world: World) -> None:
    with pytest.raises(ValueError, match="before the patient's birth date"):
        case_as_of(session, world.episode_id, D(1960, 1, 1))
    with pytest.raises(NotFound):
        case_as_of(session, 10**9, TODAY)


LATE = {  # each dated February 1, entered into the record only on June 1
    "block": ("blocks", {"date": "2025-02-01", "side": "left", "guidance": "fluoroscopy",
                         "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 1}]}),
    "imaging": ("imaging", {"date": "2025-02-01", "modality": "xray"}),
    "procedure": ("procedures", {"date": "2025-02-01", "kind": "steroid_injection"}),
    "prom": ("proms", {"date": "2025-02-01", "instrument": "nrs", "value": 6}),
    "care_course": ("conservative_care", {"type": "nsaid", "start": "2025-02-01"}),
}


@pytest.mark.parametrize("kind", LATE)
def test_a_record_entered_late_joins_the_case_from_the_day_it_was_recorded(
        session: Session, world: World, kind: str) -> None:
    """A past day's case holds only what had been recorded by then: reproducible later."""
    field, data = LATE[kind]
    put(session, world, kind, data, D(2025, 6, 1))
    assert getattr(case_as_of(session, world.episode_id, D(2025, 3, 1)), field) is None
    assert getattr(case_as_of(session, world.episode_id, D(2025, 5, 31)), field) is None
    known = getattr(case_as_of(session, world.episode_id, D(2025, 6, 1)), field)
    assert known is not None and len(known) == 1

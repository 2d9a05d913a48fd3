"""The store refuses what ENGINE-RULES v3 makes invalid, in the engine's own words.

A record dated before the birth date, relief longer than the time since its procedure (typed
with the procedure, or at a follow-up), a pregnancy recorded for a male patient, and a
demographics correction that would make the live records so: before v3's store checks, each
was stored and left `case_as_of` raising from then on. Every refusal quotes the message the
engine gives for the same facts (`Case` validation), so the words are one and the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from sijcare.model import Case
from sijcare.model.loading import problems_of
from sijcare.store import (
    RecordError,
    add_record,
    case_as_of,
    create_episode,
    create_patient,
    void_record,
)
from sijcare.store.patients import correct_patient
from tests.store.helpers import World

D = dt.date.fromisoformat
BORN = "1970-05-01"  # the world's patient (tests.store.helpers.make_world)


def engine_says(**case: Any) -> dict[str, str]:
    """What the engine answers for a case of these facts: field path -> problem."""
    data = {"as_of": "2026-11-01", "patient": {"id": "p", "birth_date": BORN}, **case}
    with pytest.raises(ValidationError) as caught:
        Case.model_validate(data)
    return dict(problems_of(caught.value))


def refused(session: Session, world: World, kind: str, data: dict[str, Any],
            on: str) -> dict[str, str]:
    with pytest.raises(RecordError) as caught:
        add_record(session, world.episode_id, kind, data, world.user_id, on)
    session.rollback()
    return dict(caught.value.problems)


def add(session: Session, world: World, kind: str, data: dict[str, Any], on: str) -> int:
    return add_record(session, world.episode_id, kind, data, world.user_id, on).id


STEROID = {"date": "2026-10-01", "kind": "steroid_injection", "side": "left",
           "guidance": "fluoroscopy"}


def test_relief_typed_with_a_procedure_is_no_longer_than_the_time_since(
        session: Session, world: World) -> None:
    """Typed on 2026-11-01, 31 days after the injection: 5 weeks fit, 6 do not."""
    problems = refused(session, world, "procedure", {**STEROID, "relief_weeks": 6},
                       "2026-11-01")
    said = engine_says(as_of="2026-11-01", procedures=[{**STEROID, "relief_weeks": 6}])
    assert problems == {"relief_weeks": said["procedures[0].relief_weeks"]}
    assert problems["relief_weeks"] == ("6 weeks is longer than the 31 days since the "
                                        "procedure on 2026-10-01")
    add(session, world, "procedure", {**STEROID, "relief_weeks": 5}, "2026-11-01")
    session.commit()
    assert case_as_of(session, world.episode_id, D("2026-11-01")).procedures[0].relief_weeks == 5


def test_an_outcome_is_read_against_its_own_date(session: Session, world: World) -> None:
    """An outcome of 2026-10-22 (3 weeks on) may say 4 weeks at most, whenever it is read."""
    procedure = add(session, world, "procedure", STEROID, "2026-10-01")
    session.commit()
    outcome = {"procedure_id": procedure, "date": "2026-10-22", "relief_percent": 60}
    problems = refused(session, world, "procedure_outcome", {**outcome, "relief_weeks": 5},
                       "2026-10-30")
    said = engine_says(as_of="2026-10-22", procedures=[{**STEROID, "relief_weeks": 5}])
    assert problems == {"relief_weeks": said["procedures[0].relief_weeks"]}
    add(session, world, "procedure_outcome", {**outcome, "relief_weeks": 4}, "2026-10-30")
    session.commit()
    for day in ("2026-10-30", "2026-11-01"):
        assert case_as_of(session, world.episode_id, D(day)).procedures[0].relief_weeks == 4


@pytest.mark.parametrize(("kind", "data", "field"), [
    ("block", {"date": "1970-04-30", "guidance": "fluoroscopy",
               "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 2}]}, "date"),
    ("intake", {"pain_onset": "1969-01-01", "pain_nrs": 5}, "pain_onset"),
    ("care_course", {"type": "nsaid", "start": "1960-03-01"}, "start"),
    ("prom", {"date": "1970-04-01", "instrument": "nrs", "value": 4}, "date"),
])
def test_no_record_is_dated_before_the_birth_date(session: Session, world: World, kind: str,
                                                  data: dict[str, Any], field: str) -> None:
    problems = refused(session, world, kind, data, "2026-11-01")
    when = data[field]
    said = engine_says(history={"pain_onset": when}) if field == "pain_onset" else \
        engine_says(imaging=[{"date": when, "modality": "xray"}])
    assert problems == {field: next(iter(said.values()))}
    assert problems[field] == f"{when} is before the birth date {BORN}"


def test_nor_recorded_before_it(session: Session, world: World) -> None:
    problems = refused(session, world, "medications", {"anticoagulant": False}, "1969-12-31")
    assert problems == {"recorded_on": f"1969-12-31 is before the birth date {BORN}"}


def test_every_problem_of_a_record_shows_at_once(session: Session, world: World) -> None:
    problems = refused(session, world, "block", {
        "date": "1960-01-01", "guidance": "fluoroscopy",
        "diary": [{"minutes": 0, "pain": 0}, {"minutes": 30, "pain": 0}]}, "2026-11-01")
    assert set(problems) == {"date", "diary"}, problems


def male_world(session: Session, world: World) -> int:
    patient = create_patient(session, world.clinic_id, {
        "given_name": "Bo", "family_name": "Male", "birth_date": BORN, "sex": "male"},
        world.user_id)
    return create_episode(session, patient.id, {"complaint": "Left buttock pain",
                                                 "opened_on": "2026-10-01"}, world.user_id).id


def test_a_pregnancy_is_not_recorded_for_a_male_patient(session: Session, world: World) -> None:
    episode = male_world(session, world)
    with pytest.raises(RecordError) as caught:
        add_record(session, episode, "intake", {"pregnant": True, "pain_nrs": 4},
                   world.user_id, "2026-11-01")
    said = engine_says(patient={"id": "p", "sex": "male", "pregnant": True})
    assert dict(caught.value.problems) == {"pregnant": said["patient.pregnant"]}
    add_record(session, episode, "intake", {"pregnant": False, "pain_nrs": 4}, world.user_id,
               "2026-11-01")  # "not pregnant" is no contradiction
    session.commit()


def correction(session: Session, world: World, **changes: Any) -> dict[str, str]:
    data = {"given_name": "Ada", "family_name": "Tester", "birth_date": BORN,
            "sex": "female", **changes}
    with pytest.raises(RecordError) as caught:
        correct_patient(session, world.patient_id, data, "typed wrongly", world.user_id)
    session.rollback()
    return dict(caught.value.problems)


def test_a_correction_that_would_make_records_invalid_is_refused(session: Session,
                                                                 world: World) -> None:
    block = add(session, world, "block", {
        "date": "2026-03-02", "guidance": "fluoroscopy",
        "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 2}]}, "2026-03-02")
    intake = add(session, world, "intake", {"pregnant": True, "pain_nrs": 6}, "2026-03-01")
    session.commit()
    problems = correction(session, world, birth_date="2026-03-02", sex="male")
    assert problems["birth_date"].startswith("2026-03-01 is before the birth date 2026-03-02")
    assert "intake and history record" in problems["birth_date"]
    said = engine_says(patient={"id": "p", "sex": "male", "pregnant": True})["patient.pregnant"]
    assert problems["sex"].startswith(f"Pregnant {said} in the history recorded on 2026-03-01")
    # every problem at once, the reason's too
    with pytest.raises(RecordError) as caught:
        correct_patient(session, world.patient_id, {
            "given_name": "Ada", "family_name": "Tester", "birth_date": "2026-03-02",
            "sex": "male"}, "", world.user_id)
    session.rollback()
    assert {path for path, _ in caught.value.problems} == {"reason", "birth_date", "sex"}
    # records entered in error do not count: marking the wrong one is the way on
    for kind, row in (("intake", intake), ("block", block)):
        void_record(session, world.episode_id, kind, row, world.user_id, "wrong patient",
                    D("2026-11-01"))
    correct_patient(session, world.patient_id, {
        "given_name": "Ada", "family_name": "Tester", "birth_date": "1970-06-01",
        "sex": "male"}, "typed wrongly", world.user_id)
    session.commit()
    case = case_as_of(session, world.episode_id, D("2026-11-01"))
    assert (case.patient.sex, case.patient.pregnant) == ("male", None)


def test_before_v3_such_records_left_the_episode_unassessable(session: Session,
                                                              world: World) -> None:
    """The store's checks, not the engine's, now keep these out: written past the store, as
    a database from before them holds them, they still make the case of the day raise."""
    procedure = add(session, world, "procedure", STEROID, "2026-10-01")
    session.commit()
    session.execute(text(
        "INSERT INTO procedure_outcomes (episode_id, procedure_id, recorded_on, recorded_by, "
        "created_at, date, relief_percent, relief_weeks) VALUES (:e, :p, '2026-10-22', :u, "
        "'2026-10-22 10:00:00', '2026-10-22', 80, 14)"),
        {"e": world.episode_id, "p": procedure, "u": world.user_id})
    session.commit()
    with pytest.raises(ValidationError, match="14 weeks is longer than the 21 days"):
        case_as_of(session, world.episode_id, D("2026-10-22"))


def test_the_anticoagulation_plan_is_stored_and_reaches_the_case(session: Session,
                                                                 world: World) -> None:
    add(session, world, "medications", {"anticoagulant": True, "anticoagulant_plan": False,
                                        "allergies": []}, "2026-10-01")
    add(session, world, "medications", {"anticoagulant": True, "anticoagulant_plan": True,
                                        "allergies": []}, "2026-10-20")
    session.commit()
    early, late = (case_as_of(session, world.episode_id, D(day)).medications
                   for day in ("2026-10-10", "2026-10-25"))
    assert (early.anticoagulant_plan, late.anticoagulant_plan) == (False, True)
    problems = refused(session, world, "medications", {"anticoagulant": False,
                                                       "anticoagulant_plan": True}, "2026-10-30")
    assert problems == {"anticoagulant_plan": "is asked only when the patient takes an "
                                              "anticoagulant"}

"""Store side of the clinic forms, on SQLite and PostgreSQL: births not in the future, search by
date of birth, corrections that keep the old value, episodes closed and reopened, notes on the
timeline with their author, account states and clinic time zones, and every error at once."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store import (
    AuditEvent,
    RecordError,
    add_note,
    add_record,
    change_password,
    close_episode,
    correct_patient,
    corrections_of,
    create_patient,
    create_user,
    load_episode_records,
    reopen_episode,
    reset_password,
    search_patients,
    set_active,
    set_time_zone,
)
from sijcare.store.forms import PatientForm
from sijcare.store.models import Clinic, Patient, User
from sijcare.store.patients import date_term, default_policy
from tests.store.helpers import TODAY, World

DEMOGRAPHICS = {"given_name": "Ada", "family_name": "Tester", "birth_date": "1970-05-01",
                "sex": "female"}


def paths(error: pytest.ExceptionInfo[RecordError]) -> set[str]:
    return {path for path, _ in error.value.problems}


@given(st.integers(min_value=1, max_value=3000))
def test_no_date_of_birth_lies_in_the_future(days: int) -> None:
    later = dt.date.today() + dt.timedelta(days=days)
    with pytest.raises(ValueError, match="in the future"):
        PatientForm.model_validate({**DEMOGRAPHICS, "birth_date": later.isoformat()})


def test_payer_must_be_a_policy_and_selects_it(session: Session, world: World) -> None:
    with pytest.raises(RecordError) as bad:
        create_patient(session, world.clinic_id, {**DEMOGRAPHICS, "payer": "acme"},
                       world.user_id)
    assert paths(bad) == {"payer"}
    patient = create_patient(session, world.clinic_id, {**DEMOGRAPHICS, "payer": "clinic"},
                             world.user_id)
    assert default_policy(patient) == "clinic"
    assert default_policy(session.get(Patient, world.patient_id)) == "medicare"
    session.rollback()


@pytest.mark.parametrize(("term", "day"), [("1970-05-01", dt.date(1970, 5, 1)),
                                           ("1.5.1970", dt.date(1970, 5, 1)),
                                           ("01/05/1970", dt.date(1970, 5, 1)),
                                           ("31.02.1970", None), ("Tester", None)])
def test_search_words_that_are_dates(term: str, day: dt.date | None) -> None:
    assert date_term(term) == day


def test_search_by_birth_date_and_record_number(session: Session, world: World) -> None:
    found, total = search_patients(session, [world.clinic_id], "1970-05-01")
    assert [p.id for p in found] == [world.patient_id] and total == 1
    patient = session.get(Patient, world.patient_id)
    by_number, _ = search_patients(session, [world.clinic_id], patient.external_id.upper())
    assert [p.id for p in by_number] == [world.patient_id]
    assert search_patients(session, [world.clinic_id], "1970-05-02") == ([], 0)


def test_a_correction_keeps_the_old_value_and_is_audited(session: Session,
                                                         world: World) -> None:
    patient = session.get(Patient, world.patient_id)
    data = {"given_name": patient.given_name, "family_name": patient.family_name,
            "birth_date": "1970-01-05", "sex": "female", "external_id": patient.external_id}
    with pytest.raises(RecordError) as both:
        correct_patient(session, world.patient_id, {**data, "birth_date": "2999-01-01"}, "",
                        world.user_id)
    assert paths(both) == {"birth_date", "reason"}  # every problem at once
    with pytest.raises(RecordError, match="nothing was changed"):
        correct_patient(session, world.patient_id, {**data, "birth_date": "1970-05-01"},
                        "typo", world.user_id)
    [correction] = correct_patient(session, world.patient_id, data, "day and month swapped",
                                   world.user_id)
    session.commit()
    assert (correction.field, correction.old_value, correction.new_value) == (
        "birth_date", "1970-05-01", "1970-01-05")
    assert session.get(Patient, world.patient_id).birth_date == dt.date(1970, 1, 5)
    assert [c.id for c in corrections_of(session, world.patient_id)] == [correction.id]
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.detail) == ("correct", {"fields": ["birth_date"]})


def test_episodes_close_and_reopen(session: Session, world: World) -> None:
    with pytest.raises(RecordError) as early:
        close_episode(session, world.episode_id, dt.date(2026, 1, 1), world.user_id)
    assert paths(early) == {"closed_on"}
    episode = close_episode(session, world.episode_id, dt.date(2026, 6, 1), world.user_id)
    assert episode.closed_on == dt.date(2026, 6, 1)
    with pytest.raises(RecordError, match="already closed"):
        close_episode(session, world.episode_id, dt.date(2026, 6, 2), world.user_id)
    assert reopen_episode(session, world.episode_id, world.user_id).closed_on is None
    with pytest.raises(RecordError, match="open already"):
        reopen_episode(session, world.episode_id, world.user_id)
    session.rollback()


def test_notes_join_the_timeline_with_their_author_but_not_the_case(
        session: Session, world: World) -> None:
    with pytest.raises(RecordError) as empty:
        add_note(session, world.episode_id, "   ", world.user_id, TODAY)
    assert paths(empty) == {"text"}
    with pytest.raises(RecordError, match="at most 4000"):
        add_note(session, world.episode_id, "x" * 4001, world.user_id, TODAY)
    add_note(session, world.episode_id, "Wants to try RFA <later>", world.user_id, TODAY)
    add_record(session, world.episode_id, "intake", {"pain_nrs": 5}, world.user_id, TODAY)
    session.commit()
    records = load_episode_records(session, world.episode_id)
    username = session.get(User, world.user_id).username
    by_kind = {entry.kind: entry for entry in records.timeline()}
    assert by_kind["note"].data == {"text": "Wants to try RFA <later>"}
    assert {entry.author for entry in by_kind.values()} == {username}
    assert all(entry.created_at for entry in by_kind.values())
    assert by_kind["note"].later_than(TODAY - dt.timedelta(days=1))
    assert not by_kind["note"].later_than(TODAY)
    assert records.case_as_of(TODAY).history.pain_nrs == 5  # a note is not a fact of the case


def test_every_problem_of_a_record_is_reported_at_once(session: Session, world: World) -> None:
    """A future date used to show only after the form's other errors were fixed."""
    later = (TODAY + dt.timedelta(days=3)).isoformat()
    with pytest.raises(RecordError) as block:
        add_record(session, world.episode_id, "block", {
            "date": later, "guidance": "fluoroscopy",
            "diary": [{"minutes": 0, "pain": 0}, {"minutes": 30, "pain": 0}]},
            world.user_id, TODAY)
    assert paths(block) == {"date", "diary"}
    with pytest.raises(RecordError) as intake:
        add_record(session, world.episode_id, "intake", {"pain_onset": later, "pain_nrs": 11},
                   world.user_id, TODAY)
    assert paths(intake) == {"pain_onset", "pain_nrs"}


def test_accounts_are_deactivated_reset_and_changed(session: Session, world: World) -> None:
    admin_id = create_user(session, f"admin_{world.user_id}", "$argon2id$stub", "admin", []).id
    with pytest.raises(RecordError, match="your own account"):
        set_active(session, admin_id, False, admin_id)
    assert not set_active(session, world.user_id, False, admin_id).active
    with pytest.raises(RecordError, match="inactive already"):
        set_active(session, world.user_id, False, admin_id)
    assert set_active(session, world.user_id, True, admin_id).active
    reset = reset_password(session, world.user_id, "$argon2id$new", admin_id)
    assert reset.must_change_password and reset.password_hash == "$argon2id$new"
    changed = change_password(session, world.user_id, "$argon2id$newer")
    assert not changed.must_change_password
    actions = [e.action for e in session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "user", AuditEvent.object_id == str(world.user_id)))]
    assert actions == ["deactivate", "activate", "reset_password", "change_password"]
    session.rollback()


def test_clinic_time_zones_must_exist(session: Session, world: World) -> None:
    assert session.get(Clinic, world.clinic_id).time_zone == "UTC"
    with pytest.raises(RecordError) as bad:
        set_time_zone(session, world.clinic_id, "Europe/Atlantis", world.user_id)
    assert paths(bad) == {"time_zone"}
    assert set_time_zone(session, world.clinic_id, "America/Chicago",
                         world.user_id).time_zone == "America/Chicago"
    session.rollback()

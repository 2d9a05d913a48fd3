"""Demo patients cover the pathway and assess cleanly; bulk synthetic patients arrive complete."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.store import (
    Clinic,
    Episode,
    ExamRecord,
    IntakeRecord,
    Patient,
    PromAnswer,
    PromRecord,
    ProvocationResult,
    case_as_of,
    generate_synthetic,
    list_timeline,
    load_demo,
    session_factory,
    verify_chain,
)
from sijcare.store.synthetic import SYNTHETIC_CLINIC
from tests.store.helpers import TODAY, migrated

EXPECTED_STAGES = [
    "conservative_care", "complete_examination", "diagnostic_block", "interventional_treatment",
    "maintenance", "surgical_evaluation", "urgent_referral", "evaluate_other_source",
]


def count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_demo_patients_span_the_pathway(session: Session) -> None:
    patients = load_demo(session, today=TODAY)
    session.commit()
    assert [p.given_name + " " + p.family_name for p in patients] == [
        f"Demo Patient {n:02d}" for n in range(1, 9)]
    assert all(p.demo and p.clinic.demo and "synthetic" in p.clinic.name for p in patients)
    stages = []
    for patient in patients:
        [episode] = patient.episodes
        assessment = assess(case_as_of(session, episode.id, TODAY))
        assert assessment.patient_id == f"demo-{patient.family_name[-2:]}"
        stages.append(assessment.stage)
    assert stages == EXPECTED_STAGES


def test_demo_loading_is_idempotent_and_repeats_stages_past_eight(session: Session) -> None:
    first = load_demo(session, n=8, today=TODAY)
    more = load_demo(session, n=10, today=TODAY)
    session.commit()
    assert [p.id for p in more[:8]] == [p.id for p in first]
    clinic_id = first[0].clinic_id
    assert count(session, Patient, Patient.clinic_id == clinic_id) == 10
    ninth = more[8].episodes[0]
    assert assess(case_as_of(session, ninth.id, TODAY)).stage == EXPECTED_STAGES[0]
    assert verify_chain(session).ok


def test_bulk_synthetic_patients_arrive_complete(session: Session) -> None:
    assert generate_synthetic(session, 2000, today=TODAY) == 2000
    session.commit()
    clinic = session.scalars(select(Clinic).where(Clinic.name == SYNTHETIC_CLINIC)).one()
    mine = Patient.clinic_id == clinic.id
    episodes = select(Episode.id).join(Patient).where(mine)
    assert clinic.demo
    assert count(session, Patient, mine) == count(session, Patient, mine, Patient.demo) == 2000
    assert count(session, Episode, Episode.id.in_(episodes)) == 2000
    assert count(session, IntakeRecord, IntakeRecord.episode_id.in_(episodes)) == 2000
    exams = select(ExamRecord.id).where(ExamRecord.episode_id.in_(episodes))
    assert count(session, ProvocationResult, ProvocationResult.exam_id.in_(exams)) == 16000
    odis = select(PromRecord.id).where(PromRecord.episode_id.in_(episodes),
                                       PromRecord.instrument == "odi")
    assert count(session, PromAnswer, PromAnswer.prom_id.in_(odis)) == 20000
    sample = session.scalars(episodes.order_by(Episode.id).limit(25)).all()
    stages = {assess(case_as_of(session, eid, TODAY)).stage for eid in sample}
    assert len(stages) >= 2
    assert verify_chain(session).ok


def test_more_synthetic_patients_continue_the_numbering(session: Session) -> None:
    generate_synthetic(session, 3, today=TODAY)
    generate_synthetic(session, 2, today=TODAY)
    session.commit()
    names = session.scalars(select(Patient.external_id).where(
        Patient.external_id.like("syn-%")).order_by(Patient.external_id)).all()
    assert len(names) == len(set(names)) and names[-1] == f"syn-{len(names):06d}"


def test_demo_records_are_recorded_on_the_day_they_describe(session: Session) -> None:
    """So the demo episodes as of a past day show what was known then, not nothing."""
    patients = load_demo(session, today=TODAY)
    by_complaint = {}
    for patient in patients:
        [episode] = patient.episodes
        by_complaint[episode.complaint] = episode.id
        assert all(entry.date == entry.recorded_on for entry in list_timeline(
            session, episode.id)), episode.complaint
        first_visit = case_as_of(session, episode.id, episode.opened_on)
        assert first_visit.history is not None and first_visit.exam is not None
        assert first_visit.medications is not None or "red flag" in episode.complaint
    confirmed = by_complaint["Left SI-joint pain (demo: block confirmed)"]
    before_the_block = TODAY - dt.timedelta(days=20)
    assert assess(case_as_of(session, confirmed, before_the_block)).stage == "diagnostic_block"
    assert assess(case_as_of(session, confirmed, TODAY)).stage == "interventional_treatment"


def test_synthetic_records_are_recorded_on_the_day_they_describe(session: Session) -> None:
    generate_synthetic(session, 20, today=TODAY)
    clinic = session.scalars(select(Clinic).where(Clinic.name == SYNTHETIC_CLINIC)).one()
    episodes = session.scalars(select(Episode.id).join(Patient).where(
        Patient.clinic_id == clinic.id).order_by(Episode.id.desc()).limit(20)).all()
    entries = [entry for eid in episodes for entry in list_timeline(session, eid)]
    assert len(entries) >= 20 * 5
    assert all(entry.date == entry.recorded_on <= TODAY for entry in entries)


def test_demo_clinicians_see_the_synthetic_cohort_and_nobody_else_is_added(
        session: Session) -> None:
    from sijcare.analytics.cohort import store_cohort
    from sijcare.store import create_clinic, create_user
    from sijcare.store.models import Membership, User

    load_demo(session, n=1, today=TODAY)
    demo = session.scalar(select(Clinic).where(Clinic.demo.is_(True)))
    real = create_clinic(session, "Real Clinic")
    trainee = create_user(session, "trainee", "!", "clinician", [demo.id])
    create_user(session, "front-desk", "!", "staff", [demo.id])
    create_user(session, "elsewhere", "!", "clinician", [real.id])
    retired = create_user(session, "retired", "!", "clinician", [demo.id])
    retired.active = False
    for _ in range(2):  # a second cohort adds no second membership
        store_cohort(session, 3, seed=1, today=TODAY)
    synthetic = session.scalar(select(Clinic).where(Clinic.name.like("Synthetic%")))
    members = set(session.scalars(select(User.username).join(Membership).where(
        Membership.clinic_id == synthetic.id)))
    assert trainee.username in members
    assert not members & {"front-desk", "elsewhere", "retired"}
    assert count(session, Membership, Membership.clinic_id == synthetic.id,
                 Membership.user_id == trainee.id) == 1


def test_every_drawn_episode_makes_a_valid_case_on_every_day_it_was_recorded(
        fresh_url: str) -> None:
    """ENGINE-RULES v3 refuses relief longer than the time since its procedure, dates before
    the birth date and a pregnant male patient: the demo, the bulk synthetic patients and the
    registry cohort hold none, so each episode is assessed under every policy on every day
    something was recorded or happened (and today), as its page and the registry read it."""
    from sijcare.analytics.cohort import store_cohort
    from sijcare.knowledge import load_knowledge
    from sijcare.store import load_episode_records

    engine = migrated(fresh_url)
    with session_factory(engine)() as session:
        load_demo(session, today=TODAY)
        generate_synthetic(session, 60, seed=2, today=TODAY)
        store_cohort(session, 60, seed=3, today=TODAY)
        session.commit()
        policies = list(load_knowledge().policies)
        episodes = session.scalars(select(Episode.id).order_by(Episode.id)).all()
        assert len(episodes) == 8 + 60 + 60
        days = 0
        for episode_id in episodes:
            records = load_episode_records(session, episode_id)
            timeline = records.timeline()
            for day in {TODAY, *(e.date for e in timeline), *(e.recorded_on for e in timeline)}:
                case = records.case_as_of(day)  # raises on any v3 invalid input
                for policy in policies:
                    assess(case, policy=policy)
                days += 1
    engine.dispose()
    assert days > 3 * len(episodes)


def test_a_drawn_cohort_arrives_with_its_follow_up_schedule_derived(fresh_url: str) -> None:
    """`sijcare demo-data` bulk-inserts past the listener that derives schedules: it derives
    them itself, the same points a clinician's records would give, so the worklist shows
    due, missed and done points on the demo."""
    from sijcare.analytics.cohort import store_cohort
    from sijcare.store.follow_up import refresh_schedule, status_on
    from sijcare.store.models import FollowUpPoint, ProcedureRecord

    engine = migrated(fresh_url)
    with session_factory(engine)() as session:
        store_cohort(session, 40, seed=6, today=TODAY, batch=15)
        session.commit()
        assert count(session, ProcedureRecord) > 20
        stored = session.scalars(select(FollowUpPoint)).all()
        assert {status_on(p, TODAY) for p in stored} >= {"done", "missed"}
        assert len({p.episode_id for p in stored}) >= count(session, Episode) * 3 // 4
        before = {(p.id, p.key, p.window_from, p.done) for p in stored}
        for episode_id in {p.episode_id for p in stored}:
            refresh_schedule(session, episode_id, TODAY)
        again = {(p.id, p.key, p.window_from, p.done)
                 for p in session.scalars(select(FollowUpPoint))}
        assert again == before
    engine.dispose()

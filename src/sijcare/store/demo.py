"""Demo data: a handful of clearly marked synthetic patients, one per stage of the pathway.

Everyone here is fictional: the names read "Demo Patient NN", every patient has `demo=True`,
and they live in the "Demo Clinic (synthetic data)". Dates count back from `today`, so the
demo stays current; records go through `add_record` like any clinician's, each recorded on
the day it describes (medications and "none so far" at the first visit), so the episode as of
any past day shows what was known then.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.follow_up import refresh_schedule
from sijcare.store.models import Clinic, Membership, Patient, User
from sijcare.store.patients import create_episode, create_patient
from sijcare.store.questionnaires import answer_link, issue_link
from sijcare.store.records import add_record
from sijcare.store.synthetic import generate_synthetic
from sijcare.store.users import create_clinic, create_user, get_user_by_username

__all__ = ["DEMO_CLINIC", "DEMO_USER", "generate_synthetic", "load_demo"]

DEMO_CLINIC = "Demo Clinic (synthetic data)"
DEMO_USER = "demo"
LOCKED = "!"  # no password hashes to "!", so nobody can sign in as the demo user

Records = list[tuple[str, int, dict[str, Any]]]  # (kind, days before today, data)
# Follow-up answered by the patient through a questionnaire link, per scenario (0-based):
# (point, days before today it was answered, answers); the other points were missed or are
# still open, so the worklist, the charts and the response rates show both on first start.
ANSWERED_BY_LINK: dict[int, list[tuple[str, int, dict[str, Any]]]] = {
    4: [("2w", 47, {"nrs": 4, "pgic": 2})],
    5: [("2w", 186, {"nrs": 5, "pgic": 3})],
}


def _scenarios(ago: Callable[[int], str]) -> list[tuple[str, str, Records]]:
    """(complaint, sex, records) per patient; the complaint names the stage to expect."""

    def intake(onset: int, **changes: Any) -> dict[str, Any]:
        return {"pain_onset": ago(onset), "pain_nrs": 7, "side": "left", "below_l5": True,
                "below_knee": False, "fortin_finger": True, "onset": "insidious",
                "pain_areas": {"axial_low_back": 10, "sij_region": 70, "buttock_leg": 20},
                "aggravating": ["sitting", "sit_to_stand"], "red_flags": [],
                "spa_features": [], "generalized_pain_disorder": False, **changes}

    exam = {"provocation": {
        "distraction": {"result": "positive", "side": "left", "familiar_pain": True},
        "thigh_thrust": {"result": "positive", "side": "left", "familiar_pain": True},
        "compression": "negative", "sacral_thrust": "positive",
        "gaenslen_left": {"result": "positive", "familiar_pain": True},
        "gaenslen_right": "negative", "faber": "positive", "yeoman": "negative"},
        "tenderness": {"psis": True, "sacral_sulcus": True},
        "straight_leg_raise": "negative", "neuro_deficit": False, "hip_rotation_pain": False}

    def care(start: int, end: int | None) -> tuple[str, int, dict[str, Any]]:
        course = {"type": "physical_therapy", "start": ago(start)}
        return ("care_course", start, course | ({"end": ago(end)} if end else {}))

    def mri(days: int) -> tuple[str, int, dict[str, Any]]:
        return ("imaging", days, {"date": ago(days), "modality": "mri", "region": "sij",
                                  "findings": [], "excludes_other_causes": True})

    def block(days: int, before: int, best: int) -> tuple[str, int, dict[str, Any]]:
        diary = [(0, before), (15, best + 1), (30, best), (60, best), (120, best + 1),
                 (240, before - 1), (360, before)]
        return ("block", days, {
            "date": ago(days), "side": "left", "target": "intra_articular",
            "guidance": "fluoroscopy", "contrast": True, "agent": "lidocaine",
            "diary": [{"minutes": m, "pain": p} for m, p in diary]})

    def injection(days: int, percent: int, weeks: int, ongoing: bool) -> Records:
        """The injection on its day, and its relief at the follow-up `weeks` later (relief
        is known only once it has lasted: ENGINE-RULES v3 refuses it earlier). The outcome
        follows the procedure recorded before it (`load_demo` names it by its id)."""
        follow_up = days - 7 * weeks
        return [("procedure", days, {
            "date": ago(days), "kind": "steroid_injection", "side": "left",
            "guidance": "fluoroscopy", "injectate": "triamcinolone 40 mg, bupivacaine 0.5% 1 ml",
            "complications": []}),
            ("procedure_outcome", follow_up, {
                "date": ago(follow_up),
                "relief_percent": percent, "relief_weeks": weeks, "relief_ongoing": ongoing,
                "complications": []})]

    def proms(days: int, nrs: int) -> Records:
        return [("prom", days, {"date": ago(days), "instrument": "nrs", "value": nrs}),
                ("prom", days, {"date": ago(days), "instrument": "odi",
                                "answers": [3, 2, 3, 2, 1, 3, 2, 2, None, 3]})]

    def medications(days: int) -> tuple[str, int, dict[str, Any]]:
        return ("medications", days, {"anticoagulant": False, "allergies": []})

    def none(days: int, *kinds: str) -> Records:
        """Asked at the first visit: none of these so far."""
        return [(kind, days, {"none": True}) for kind in kinds]

    return [
        ("Left buttock pain (demo: conservative care just started)", "female", [
            ("intake", 60, intake(75)), ("exam", 60, exam), care(20, None), medications(60),
            *proms(60, 7), *none(60, "imaging", "block", "procedure")]),
        ("Left buttock pain (demo: examination incomplete)", "male", [
            ("intake", 100, intake(130)), care(90, 40), medications(100), *proms(100, 6),
            ("exam", 100, {"provocation": {"distraction": "positive",
                                           "thigh_thrust": "positive"}}),
            *none(100, "block", "procedure")]),
        ("Left SI-joint pain (demo: diagnostic block due)", "female", [
            ("intake", 200, intake(230)), ("exam", 200, exam), care(180, 90), mri(120),
            medications(200), *proms(200, 7), *none(200, "block", "procedure")]),
        ("Left SI-joint pain (demo: block confirmed)", "female", [
            ("intake", 200, intake(240)), ("exam", 200, exam), care(180, 90), mri(120),
            block(14, 8, 1), medications(200), *proms(200, 8), *none(200, "procedure")]),
        ("Left SI-joint pain (demo: after injection, relief ongoing)", "male", [
            ("intake", 300, intake(330)), ("exam", 300, exam), care(280, 180), mri(200),
            block(150, 8, 1), *injection(60, 70, 8, True), medications(300), *proms(300, 7),
            *proms(30, 3)]),
        ("Left SI-joint pain (demo: injection wore off)", "female", [
            ("intake", 500, intake(540)), ("exam", 500, exam), care(480, 250), mri(400),
            block(240, 7, 1), *injection(200, 40, 4, False), medications(500), *proms(500, 8),
            *proms(150, 7)]),
        ("Buttock pain, new saddle numbness (demo: red flag)", "male", [
            ("intake", 10, intake(40, side="bilateral", red_flags=["saddle_anesthesia",
                                                                   "bladder_dysfunction"])),
            ("exam", 10, {"provocation": {"distraction": "positive"}, "neuro_deficit": True}),
            *none(10, "imaging")]),
        ("Left buttock pain (demo: block negative)", "female", [
            ("intake", 250, intake(280)), ("exam", 250, exam), care(230, 150), mri(180),
            block(30, 7, 6), medications(250), *proms(250, 7), *none(250, "procedure")]),
    ]


def _demo_clinic_and_user(session: Session) -> tuple[Clinic, User]:
    clinic = session.scalar(select(Clinic).where(Clinic.name == DEMO_CLINIC))
    clinic = clinic or create_clinic(session, DEMO_CLINIC, demo=True)
    user = get_user_by_username(session, DEMO_USER)
    if user is None:  # it only authors the demo records: deactivated, so nobody signs in
        user = create_user(session, DEMO_USER, LOCKED, "clinician", [clinic.id])
        user.active = False
    elif session.get(Membership, (user.id, clinic.id)) is None:
        session.add(Membership(user_id=user.id, clinic_id=clinic.id))
        session.flush()
    return clinic, user


def _answer_by_link(session: Session, episode_id: int,
                    answered: list[tuple[str, int, dict[str, Any]]], today: dt.date) -> None:
    """Answers a patient gave by link: a link issued and used on that day (its token, made with
    a throwaway key, is never shown), so the PROMs are patient-reported like real ones."""
    if not answered:
        return
    points = {p.point: p for p in refresh_schedule(session, episode_id, today)}
    secret = secrets.token_bytes(32)
    for point, days, answers in answered:
        _, token = issue_link(session, points[point].id, None, secret)
        moment = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(18, 30))
        answer_link(session, token, secret, answers, now=moment)


def load_demo(session: Session, n: int = 8, today: dt.date | None = None) -> list[Patient]:
    """`n` demo patients (the stages repeat past 8); those already loaded are kept, not doubled."""
    today = today or dt.date.today()
    clinic, user = _demo_clinic_and_user(session)
    scenarios = _scenarios(lambda days: (today - dt.timedelta(days=days)).isoformat())
    patients = []
    for number in range(1, n + 1):
        external_id = f"demo-{number:02d}"
        existing = session.scalar(select(Patient).where(
            Patient.clinic_id == clinic.id, Patient.external_id == external_id))
        if existing:
            patients.append(existing)
            continue
        complaint, sex, records = scenarios[(number - 1) % len(scenarios)]
        patient = create_patient(session, clinic.id, {
            "given_name": "Demo", "family_name": f"Patient {number:02d}", "sex": sex,
            "birth_date": dt.date(today.year - 40 - number % 25, 1 + number % 12, 15),
            "external_id": external_id}, user.id, demo=True)
        opened = max(days for _, days, _ in records)
        episode = create_episode(session, patient.id, {
            "complaint": complaint, "opened_on": today - dt.timedelta(days=opened)}, user.id)
        last_procedure = None
        for kind, days, data in records:
            if kind == "procedure_outcome":  # it follows the last procedure recorded
                data = {"procedure_id": last_procedure, **data}
            row = add_record(session, episode.id, kind, data, user.id,
                             today - dt.timedelta(days=days))
            if kind == "procedure" and "none" not in data:
                last_procedure = row.id
        _answer_by_link(session, episode.id, ANSWERED_BY_LINK.get((number - 1) % len(scenarios),
                                                                  []), today)
        patients.append(patient)
    return patients

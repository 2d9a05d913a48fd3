"""The clinical banner on every clinical page: who the patient is (name, age, sex) and what
must not be missed before touching them (allergies coded and in words, an anticoagulant,
pregnancy) with the stage, read from the episode's case as of the page's day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from sijcare.engine import assess
from sijcare.model.case import Case
from sijcare.store import Episode, Patient, load_episode_records
from sijcare.store.patients import default_policy


@dataclass(frozen=True)
class Banner:
    patient: Patient
    age: int
    clinical: bool  # False for staff: name, age and sex only
    allergies: tuple[str, ...] | None = None  # coded; None: not recorded
    anticoagulant: bool | None = None
    pregnant: bool | None = None
    stage: str | None = None


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def banner(patient: Patient, day: dt.date, case: Case | None = None,
           stage: str | None = None, clinical: bool = True) -> Banner:
    """The banner from a case the page already holds (None: the record cannot be assessed)."""
    if case is None or not clinical:
        return Banner(patient, age_on(patient.birth_date, day), clinical, stage=stage)
    return Banner(patient, age_on(patient.birth_date, day), True,
                  tuple(case.allergies) if case.allergies is not None else None,
                  case.medications.anticoagulant if case.medications else None,
                  case.patient.pregnant, stage)


def banner_of(db: Session, patient: Patient, day: dt.date, episode_id: int | None = None,
              clinical: bool = True) -> Banner:
    """The banner of the episode (or the patient's latest), read and assessed here, for pages
    that hold no case of their own."""
    if not clinical:
        return banner(patient, day, clinical=False)
    if episode_id is None:
        episode_id = db.scalar(select(Episode.id).where(Episode.patient_id == patient.id)
                               .order_by(Episode.opened_on.desc(), Episode.id.desc()).limit(1))
    if episode_id is None:
        return banner(patient, day)
    try:
        case = load_episode_records(db, episode_id).case_as_of(day)
    except ValueError:  # the episode page says why it cannot be assessed
        return banner(patient, day)
    return banner(patient, day, case, assess(case, policy=default_policy(patient)).stage)


def clinical_banner(patient: Patient | None, episode: Episode | None, actor: Any) -> Banner | None:
    """The banner for a clinic page that names a patient but drew none itself (the record
    forms, the correction form, the patient page): read through the session the patient was
    loaded in. Staff see name, age and sex; nobody else sees a banner."""
    if patient is None or actor is None or not actor.may("demographics_read"):
        return None
    db = object_session(patient)
    if db is None:
        return None
    return banner_of(db, patient, dt.date.today(), episode.id if episode else None,
                     clinical=actor.may("clinical_read"))

"""The clinical banner on every clinical page: who the patient is (name, age, sex) and what
must not be missed before touching them (allergies coded and in words, an anticoagulant,
pregnancy) with the stage, read from the episode's case as of the page's day, always before
the page's template runs (`banner_page`): a template reads no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from sijcare.engine import assess
from sijcare.model.case import Case
from sijcare.store import Episode, Patient, load_episode_records
from sijcare.store.patients import default_policy
from sijcare.web.auth.access import Permission
from sijcare.web.deps import end_reads
from sijcare.web.templating import render


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


def banner_page(request: Request, db: Session, name: str, context: dict[str, Any],
                 status_code: int = 200) -> Response:
    """A clinic page about `context["patient"]` (and `context["episode"]`, if any) under its
    banner: the banner is read here, unless the page drew its own from a case it holds, and
    then the page's reads end (`end_reads`), so that its template touches no database while
    it renders. Staff see name, age and sex; nobody else sees a banner."""
    actor = request.state.actor
    if "banner" not in context and actor.may(Permission.demographics_read):
        episode = context.get("episode")
        context = {**context, "banner": banner_of(
            db, context["patient"], dt.date.today(), episode.id if episode else None,
            clinical=actor.may(Permission.clinical_read))}
    end_reads(db)
    return render(request, name, context, status_code)

"""Patients and their episodes; callers check that a user sees only their clinics' patients."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload

from sijcare.store.audit import record_event
from sijcare.store.errors import NotFound, RecordError, problems_of
from sijcare.store.forms import EpisodeForm, PatientForm
from sijcare.store.models import Clinic, Episode, Patient
from sijcare.store.plausible import implausible
from sijcare.store.users import require_member

# The allow-list of orderings; the id breaks ties so pages never overlap.
SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "family_name": (Patient.family_name.asc(), Patient.given_name.asc(), Patient.id.asc()),
    "-family_name": (Patient.family_name.desc(), Patient.given_name.desc(), Patient.id.desc()),
    "created_at": (Patient.created_at.asc(), Patient.id.asc()),
    "-created_at": (Patient.created_at.desc(), Patient.id.desc()),
    "birth_date": (Patient.birth_date.asc(), Patient.id.asc()),
}
MAX_PER_PAGE = 200


def _form(model: Any, data: object, today: dt.date | None) -> Any:
    """Strictly typed (dates as `YYYY-MM-DD`), no date after `today` (default: the real
    today) or before 1900, no control characters."""
    if not isinstance(data, dict):
        raise RecordError([("", "expected a mapping of fields")])
    try:
        form = model.model_validate(data, strict=True)
    except ValidationError as error:
        raise RecordError(problems_of(error)) from None
    if problems := implausible(form, today or dt.date.today()):
        raise RecordError(problems)
    return form


def create_patient(session: Session, clinic_id: int, data: dict[str, Any], actor_id: int,
                   *, demo: bool = False, today: dt.date | None = None) -> Patient:
    """A patient of `clinic_id` from form data; `demo` marks synthetic patients."""
    form: PatientForm = _form(PatientForm, data, today)
    if session.get(Clinic, clinic_id) is None:
        raise NotFound(f"no clinic {clinic_id}")
    require_member(session, actor_id, clinic_id)
    if form.external_id and session.scalar(select(Patient.id).where(
            Patient.clinic_id == clinic_id, Patient.external_id == form.external_id)):
        raise RecordError([("external_id", f"'{form.external_id}' is already used in this "
                                           "clinic")])
    patient = Patient(clinic_id=clinic_id, demo=demo, created_by=actor_id,
                      **form.model_dump())
    session.add(patient)
    session.flush()
    record_event(session, actor_id, "create", "patient", patient.id, clinic_id)
    return patient


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_patients(session: Session, clinic_ids: list[int], query: str | None = None,
                    page: int = 1, per_page: int = 20, sort: str = "family_name",
                    ) -> tuple[list[Patient], int]:
    """One page of the clinics' patients whose names or external id contain every word of
    `query` (case-insensitive), and the total number that match."""
    problems = []
    if sort not in SORTS:
        problems.append(("sort", f"not an allowed order; one of: {', '.join(SORTS)}"))
    if page < 1:
        problems.append(("page", "must be 1 or more"))
    if not 1 <= per_page <= MAX_PER_PAGE:
        problems.append(("per_page", f"must be between 1 and {MAX_PER_PAGE}"))
    if problems:
        raise RecordError(problems)
    where = [Patient.clinic_id.in_(clinic_ids)]
    for term in (query or "").split():
        pattern = f"%{_escape_like(term)}%"
        where.append(or_(*(column.ilike(pattern, escape="\\") for column in
                           (Patient.given_name, Patient.family_name, Patient.external_id))))
    total = session.scalar(select(func.count()).select_from(Patient).where(*where)) or 0
    patients = session.scalars(select(Patient).where(*where).order_by(*SORTS[sort])
                               .limit(per_page).offset((page - 1) * per_page))
    return list(patients), total


def get_patient(session: Session, patient_id: int) -> Patient | None:
    """The patient, or None. Which clinics a user may see is the caller's check."""
    return session.get(Patient, patient_id)


def create_episode(session: Session, patient_id: int, data: dict[str, Any],
                   actor_id: int, *, today: dt.date | None = None) -> Episode:
    """A new episode (one complaint over time) for the patient, from form data."""
    form: EpisodeForm = _form(EpisodeForm, data, today)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    require_member(session, actor_id, patient.clinic_id)
    episode = Episode(patient_id=patient_id, created_by=actor_id, **form.model_dump())
    session.add(episode)
    session.flush()
    record_event(session, actor_id, "create", "episode", episode.id, patient.clinic_id)
    return episode


def get_episode(session: Session, episode_id: int) -> Episode | None:
    """The episode, or None. Which clinics a user may see is the caller's check.

    Its patient comes in the same query: every caller needs the patient's clinic."""
    return session.get(Episode, episode_id, options=[joinedload(Episode.patient)])

"""Patients and their episodes; callers check that a user sees only their clinics' patients."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload

from sijcare.engine import DEFAULT_POLICY
from sijcare.store.audit import record_event
from sijcare.store.consistency import correction_problems
from sijcare.store.errors import NotFound, RecordError, problems_of
from sijcare.store.forms import CORRECTABLE, EpisodeForm, PatientForm
from sijcare.store.models import Clinic, Episode, Patient, PatientCorrection
from sijcare.store.plausible import CONTROL_PROBLEM, control_characters, implausible
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


# Dates of birth as clinics type them: ISO, or day first with dots, slashes or dashes.
_DAY_FIRST = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")


def date_term(term: str) -> dt.date | None:
    """The date a search word names (`1970-02-03`, `3.2.1970`, `03/02/1970`), else None."""
    try:
        if len(term) == 10 and term[4] == "-":
            return dt.date.fromisoformat(term)
        if match := _DAY_FIRST.match(term):
            day, month, year = map(int, match.groups())
            return dt.date(year, month, day)
    except ValueError:
        return None
    return None


def _matching(term: str) -> ColumnElement[bool]:
    """A date matches the date of birth; other words a name or the record number."""
    if (born := date_term(term)) is not None:
        return Patient.birth_date == born
    pattern = f"%{_escape_like(term)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in
                 (Patient.given_name, Patient.family_name, Patient.external_id)))


def search_patients(session: Session, clinic_ids: list[int], query: str | None = None,
                    page: int = 1, per_page: int = 20, sort: str = "family_name",
                    ) -> tuple[list[Patient], int]:
    """One page of the clinics' patients matching every word of `query` (a name or record
    number contains it, case-insensitive; a date is the date of birth), and the total.
    Records merged into another are left out: the survivor is the one to find."""
    problems = []
    if sort not in SORTS:
        problems.append(("sort", f"not an allowed order; one of: {', '.join(SORTS)}"))
    if page < 1:
        problems.append(("page", "must be 1 or more"))
    if not 1 <= per_page <= MAX_PER_PAGE:
        problems.append(("per_page", f"must be between 1 and {MAX_PER_PAGE}"))
    if problems:
        raise RecordError(problems)
    where = [Patient.clinic_id.in_(clinic_ids), Patient.merged_into_id.is_(None)]
    where += [_matching(term) for term in (query or "").split()]
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
    if patient.merged_into_id is not None:
        raise RecordError([("", f"this record was merged into record #{patient.merged_into_id}"
                                ": open the episode there")])
    episode = Episode(patient_id=patient_id, created_by=actor_id, **form.model_dump())
    session.add(episode)
    session.flush()
    record_event(session, actor_id, "create", "episode", episode.id, patient.clinic_id)
    return episode


def get_episode(session: Session, episode_id: int) -> Episode | None:
    """The episode, or None. Which clinics a user may see is the caller's check.

    Its patient and the patient's clinic come in the same query: every caller needs the
    clinic, for access and for the clinic's time zone on the page."""
    return session.get(Episode, episode_id,
                       options=[joinedload(Episode.patient).joinedload(Patient.clinic)])


def _shown(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def correct_patient(session: Session, patient_id: int, data: dict[str, Any], reason: str,
                    actor_id: int) -> list[PatientCorrection]:
    """Correct demographics: `data` is the whole corrected set (as at registration); each
    changed field keeps its old value in `patient_corrections`, with who and why, audited.
    A correction that would make a live record invalid (a birth date after a recorded date,
    male while an intake records a pregnancy) is refused in the engine's words."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    reason = reason.strip() if isinstance(reason, str) else ""
    problems = [] if reason else [("reason", "say why the demographics are corrected")]
    if len(reason) > 200:
        problems.append(("reason", "at most 200 characters"))
    if control_characters(reason):
        problems.append(("reason", CONTROL_PROBLEM))
    try:
        form = _form(PatientForm, data, None)
    except RecordError as error:
        raise RecordError(error.problems + problems) from None
    require_member(session, actor_id, patient.clinic_id)
    problems += correction_problems(session, patient.id, form.birth_date, form.sex)
    if problems:  # the reason's with the records', all at once
        raise RecordError(problems)
    if form.external_id and session.scalar(select(Patient.id).where(
            Patient.clinic_id == patient.clinic_id, Patient.external_id == form.external_id,
            Patient.id != patient.id)):
        raise RecordError([("external_id", f"'{form.external_id}' is already used in this "
                                           "clinic")])
    corrections = []
    for name in CORRECTABLE:
        old, new = getattr(patient, name), getattr(form, name)
        if old != new:
            corrections.append(PatientCorrection(
                patient_id=patient.id, field=name, old_value=_shown(old),
                new_value=_shown(new), reason=reason, corrected_by=actor_id))
            setattr(patient, name, new)
    if not corrections:
        raise RecordError([("", "nothing was changed")])
    session.add_all(corrections)
    session.flush()
    record_event(session, actor_id, "correct", "patient", patient.id, patient.clinic_id,
                 {"fields": [c.field for c in corrections]})
    return corrections


def corrections_of(session: Session, patient_id: int) -> list[PatientCorrection]:
    """The patient's corrected demographics, newest first."""
    return list(session.scalars(select(PatientCorrection)
                                .where(PatientCorrection.patient_id == patient_id)
                                .order_by(PatientCorrection.id.desc())))


def close_episode(session: Session, episode_id: int, closed_on: dt.date,
                  actor_id: int) -> Episode:
    """Close an open episode on `closed_on` (not before it opened); audited."""
    episode = _episode(session, episode_id, actor_id)
    if episode.closed_on is not None:
        raise RecordError([("", f"the episode is already closed (on {episode.closed_on})")])
    if closed_on < episode.opened_on:
        raise RecordError([("closed_on", f"{closed_on} is before the episode opened "
                                         f"({episode.opened_on})")])
    episode.closed_on = closed_on
    session.flush()
    record_event(session, actor_id, "close", "episode", episode.id, episode.patient.clinic_id,
                 {"closed_on": closed_on.isoformat()})
    return episode


def reopen_episode(session: Session, episode_id: int, actor_id: int) -> Episode:
    """Reopen a closed episode; the day it had been closed stays in the audit chain."""
    episode = _episode(session, episode_id, actor_id)
    if episode.closed_on is None:
        raise RecordError([("", "the episode is open already")])
    was = episode.closed_on
    episode.closed_on = None
    session.flush()
    record_event(session, actor_id, "reopen", "episode", episode.id, episode.patient.clinic_id,
                 {"was_closed_on": was.isoformat()})
    return episode


def _episode(session: Session, episode_id: int, actor_id: int) -> Episode:
    episode = get_episode(session, episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id}")
    require_member(session, actor_id, episode.patient.clinic_id)
    return episode


def default_policy(patient: Patient) -> str:
    """The policy a patient's episodes open under: their payer's, else the engine's default."""
    return patient.payer or DEFAULT_POLICY

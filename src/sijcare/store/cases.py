"""Build the engine's `Case` for an episode as it stood on a given day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.model.case import Case
from sijcare.model.case import Patient as CasePatient
from sijcare.store.errors import NotFound
from sijcare.store.kinds import KINDS, Kind
from sijcare.store.models import Episode, NoneRecord, Patient


def case_patient_id(patient: Patient) -> str:
    """The id a Case (and so an Assessment) names the patient by."""
    return patient.external_id or f"patient-{patient.id}"


def case_as_of(session: Session, episode_id: int, as_of: dt.date) -> Case:
    """The `Case` of the episode from records dated on or before `as_of`.

    - Intake, exam and medications: the latest one recorded on or before `as_of` wins, whole.
    - Imaging, blocks, procedures and PROMs by their date; care courses whose start is on or
      before `as_of`, with `end` left as recorded (the engine counts ongoing care to `as_of`).
    - A block's `pain_before` is its diary's baseline (minutes 0) and `pain_after` the lowest
      rating after it: the best relief the block gave, which is how a diagnostic block is read.
    - Absent stays absent: a list is `[]` only when the clinician recorded "none" (or records
      exist); with nothing recorded it stays `None`, which the engine reads as unknown.

    Records are placed by the date they describe, so adding later records never changes the
    case of an earlier day; what a clinician saw is also kept verbatim in signed assessments.
    """
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id}")
    patient = episode.patient
    if as_of < patient.birth_date:
        raise ValueError(f"as_of {as_of} is before the patient's birth date")
    intake = _latest(session, KINDS["intake"], episode_id, as_of)
    exam = _latest(session, KINDS["exam"], episode_id, as_of)
    medications = _latest(session, KINDS["medications"], episode_id, as_of)
    confirmed_none = set(session.scalars(select(NoneRecord.kind).where(
        NoneRecord.episode_id == episode_id, NoneRecord.recorded_on <= as_of)))
    lists: dict[str, Any] = {}
    for spec in KINDS.values():
        if spec.case_field:
            found = [form.engine() for form in _dated(session, spec, episode_id, as_of)]
            lists[spec.case_field] = found or ([] if spec.name in confirmed_none else None)
    return Case(
        as_of=as_of,
        patient=CasePatient(id=case_patient_id(patient), birth_date=patient.birth_date,
                            sex=patient.sex, pregnant=intake.pregnant if intake else None),
        history=intake.engine() if intake else None,
        exam=exam.engine() if exam else None,
        medications=medications.engine() if medications else None,
        allergies=medications.allergies if medications else None,
        **lists,
    )


def _when(spec: Kind) -> Any:
    return getattr(spec.row, spec.dated_by)


def _dated(session: Session, spec: Kind, episode_id: int, as_of: dt.date) -> list[Any]:
    rows = session.scalars(
        select(spec.row)
        .where(spec.row.episode_id == episode_id, _when(spec) <= as_of)
        .order_by(_when(spec), spec.row.id))
    return [spec.form.model_validate(spec.load(row)) for row in rows]


def _latest(session: Session, spec: Kind, episode_id: int, as_of: dt.date) -> Any:
    row = session.scalars(
        select(spec.row)
        .where(spec.row.episode_id == episode_id, _when(spec) <= as_of)
        .order_by(_when(spec).desc(), spec.row.id.desc())
        .limit(1)).first()
    return spec.form.model_validate(spec.load(row)) if row else None

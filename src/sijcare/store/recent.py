"""Each user's recently opened patients (the header's "recent patients"), and the patient's
medication list and allergies in words, which sit beside the coded ones the engine reads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.db import insert_or
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import MedicationWords, Patient, RecentPatient, utcnow
from sijcare.store.users import require_member

RECENT = 10  # how many a user is shown


def note_opened(session: Session, user_id: int, patient_id: int) -> None:
    """The user opened the patient now (one row per user and patient, its time moved on).

    One INSERT ... ON CONFLICT, so the same user opening the patient in two requests at once
    (tabs, a reload) cannot both insert the row and fail the second page."""
    now = utcnow()
    session.execute(insert_or(session, RecentPatient)
                    .values(user_id=user_id, patient_id=patient_id, viewed_at=now)
                    .on_conflict_do_update(index_elements=["user_id", "patient_id"],
                                           set_={"viewed_at": now}))


def recent_patients(session: Session, user_id: int, clinic_ids: list[int]) -> list[Patient]:
    """The user's last opened patients, newest first, of the clinics they may still see."""
    return list(session.scalars(
        select(Patient).join(RecentPatient, RecentPatient.patient_id == Patient.id)
        .where(RecentPatient.user_id == user_id, Patient.clinic_id.in_(clinic_ids))
        .order_by(RecentPatient.viewed_at.desc()).limit(RECENT)))


LIMITS = {"medication_list": 2000, "allergy_notes": 500}


def set_medication_list(session: Session, patient_id: int, medication_list: str,
                        allergy_notes: str, actor_id: int) -> Patient:
    """What the patient takes and is allergic to, in words (blank: not recorded); audited
    with the text before and after. The coded allergies and the anticoagulant stay in the
    medications record, which the engine reads."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    require_member(session, actor_id, patient.clinic_id)
    values = {"medication_list": medication_list.strip(), "allergy_notes": allergy_notes.strip()}
    if problems := [(name, f"needs at most {LIMITS[name]} characters")
                    for name, value in values.items() if len(value) > LIMITS[name]]:
        raise RecordError(problems)
    words = patient.medication_words
    before = {name: getattr(words, name) if words else None for name in values}
    if words is None:
        words = patient.medication_words = MedicationWords(patient_id=patient.id,
                                                           updated_by=actor_id)
        session.add(words)
    for name, value in values.items():
        setattr(words, name, value or None)
    words.updated_by, words.updated_at = actor_id, utcnow()
    session.flush()
    record_event(session, actor_id, "update", "patient", patient.id, patient.clinic_id,
                 {"before": before, "after": {name: getattr(words, name) for name in values}})
    return patient

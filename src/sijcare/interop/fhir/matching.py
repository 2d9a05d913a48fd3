"""Which sijcare patient a hospital's Patient is: by an identifier sijcare gave it (the
clinic's patient number under the clinic's identifier system, as the export writes it), or
as the patient a FHIR import made of it (by the identifier the hospital sent it with)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from sijcare.interop.fhir.base import objects
from sijcare.interop.fhir.incoming import incoming_patient, key
from sijcare.interop.fhir.patient import identifier_system
from sijcare.store.models import Clinic, ImportedRecord, Patient


def _matching(db: Session | Connection, identifiers: object
              ) -> tuple[int, str | None] | None:
    """The id and payer of the one patient an identifier names, or None (none, or more than
    one: ambiguous). One light query: a hook asks this on every call. `identifiers` is the
    Patient's list as the EHR sent it, whatever its shape."""
    wanted = {(i.get("system"), i.get("value")) for i in objects(identifiers)
              if isinstance(i.get("value"), str) and isinstance(i.get("system"), str | None)}
    values = {value for _, value in wanted}
    if not values:
        return None
    numbered = [Patient.external_id.in_(values)]
    numbered += [Patient.id == int(v[8:]) for v in values
                 if v.startswith("patient-") and v[8:].isdigit() and len(v) < 18]
    rows = db.execute(select(Patient.id, Patient.external_id, Patient.payer, Clinic.name,
                             Clinic.id)
                      .join(Clinic, Clinic.id == Patient.clinic_id).where(or_(*numbered))).all()
    found = [(pid, payer) for pid, number, payer, name, clinic_id in rows
             if (identifier_system(Clinic(id=clinic_id, name=name)),
                 number or f"patient-{pid}") in wanted]
    return found[0] if len(found) == 1 else None


def matching_patient_id(db: Session, identifiers: object) -> int | None:
    found = _matching(db, identifiers)
    return found[0] if found else None


def matching_payer(db: Session | Connection, identifiers: object
                   ) -> str | None:
    """The payer of the one patient an identifier names (None: no such patient, or no
    payer recorded)."""
    found = _matching(db, identifiers)
    return found[1] if found else None


def imported_patient_id(db: Session, patient: dict[str, Any],
                        clinic_ids: Iterable[int]) -> int | None:
    """The one patient of these clinics an import made of this hospital Patient, known by
    the identifier the importer keeps (never by the bare Type/id, which another hospital's
    record may share); None otherwise."""
    if not isinstance(patient.get("id"), str):
        return None
    source = incoming_patient(patient, [], dt.date.today()).source
    if source == key(patient):
        return None
    found = db.scalars(select(ImportedRecord.record_id).where(
        ImportedRecord.kind == "patient", ImportedRecord.source == source,
        ImportedRecord.clinic_id.in_(list(clinic_ids)))).all()
    return found[0] if len(found) == 1 else None


def survivor(db: Session, patient_id: int | None) -> Patient | None:
    """The patient, or the one they were merged into."""
    patient = None if patient_id is None else db.get(Patient, patient_id)
    if patient is not None and patient.merged_into_id is not None:
        return db.get(Patient, patient.merged_into_id)
    return patient


def matching_patient(db: Session, identifiers: object) -> Patient | None:
    return survivor(db, matching_patient_id(db, identifiers))

"""Which sijcare patient a hospital's Patient is: by an identifier sijcare gave it (the
clinic's patient number under the clinic's identifier system, as the export writes it)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sijcare.interop.fhir.base import objects
from sijcare.interop.fhir.patient import identifier_system
from sijcare.store.models import Clinic, Patient


def matching_patient_id(db: Session, identifiers: object) -> int | None:
    """The id of the one patient an identifier names, or None (none, or more than one:
    ambiguous). One light query: a hook asks this on every call. `identifiers` is the
    Patient's list as the EHR sent it, whatever its shape."""
    wanted = {(i.get("system"), i.get("value")) for i in objects(identifiers)
              if isinstance(i.get("value"), str) and isinstance(i.get("system"), str | None)}
    values = {value for _, value in wanted}
    if not values:
        return None
    numbered = [Patient.external_id.in_(values)]
    numbered += [Patient.id == int(v[8:]) for v in values
                 if v.startswith("patient-") and v[8:].isdigit() and len(v) < 18]
    rows = db.execute(select(Patient.id, Patient.external_id, Clinic.name, Clinic.id)
                      .join(Clinic, Clinic.id == Patient.clinic_id).where(or_(*numbered))).all()
    found = [pid for pid, number, name, clinic_id in rows
             if (identifier_system(Clinic(id=clinic_id, name=name)),
                 number or f"patient-{pid}") in wanted]
    return found[0] if len(found) == 1 else None


def matching_patient(db: Session, identifiers: object) -> Patient | None:
    found = matching_patient_id(db, identifiers)
    patient = None if found is None else db.get(Patient, found)
    if patient is not None and patient.merged_into_id is not None:  # merged: its survivor
        return db.get(Patient, patient.merged_into_id)
    return patient

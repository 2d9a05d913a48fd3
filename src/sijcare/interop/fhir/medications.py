"""Medication reconciliation: allergies and whether the patient takes an anticoagulant.

Only the latest reconciliation of an episode is exported (the case reads the latest one
whole; an older list is history, not a current allergy). "None" is a fact: an empty allergy
list is an AllergyIntolerance saying no known allergy, and no anticoagulant is a
MedicationStatement `not-taken`. Which anticoagulant is not recorded, so it is coded by
class (sijcare's code); the RxNorm ingredients in `fhir_codes.yaml` are for reading one in.
"""

from __future__ import annotations

from sijcare.interop.fhir.base import Resource, concept, fhir_id, meta, status_concept
from sijcare.interop.fhir.records import Recorded


def medication_resources(medications: Recorded) -> list[Resource]:
    form = medications.form
    found = []
    if form.allergies is not None:
        found += [allergy(medications, code) for code in form.allergies or ["no_known_allergy"]]
    if form.anticoagulant is not None:
        found.append(anticoagulant(medications, form.anticoagulant))
    return found


def allergy(medications: Recorded, code: str) -> Resource:
    voided = medications.voided
    found: Resource = {
        "resourceType": "AllergyIntolerance",
        "id": fhir_id("medications", medications.id, code), "meta": meta("allergy"),
        "verificationStatus": status_concept(
            "allergyintolerance-verification",
            "entered-in-error" if voided else "confirmed"),
        "code": concept(code), "patient": medications.subject,
        "recordedDate": medications.recorded_on.isoformat(),
    }
    if not voided:  # ait-2: no clinical status beside entered-in-error
        found["clinicalStatus"] = status_concept("allergyintolerance-clinical", "active")
    if code != "no_known_allergy":
        found["category"] = ["environment" if code == "latex" else "medication"]
    return found


def anticoagulant(medications: Recorded, taking: bool) -> Resource:
    return {
        "resourceType": "MedicationStatement", "id": fhir_id("medications", medications.id),
        "meta": meta("medication"),
        "status": medications.status("active" if taking else "not-taken"),
        "medicationCodeableConcept": concept("anticoagulant"),
        "subject": medications.subject,
        "effectiveDateTime": medications.recorded_on.isoformat(),
        "dateAsserted": medications.recorded_on.isoformat(),
    }

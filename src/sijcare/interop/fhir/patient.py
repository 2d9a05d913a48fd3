"""The patient and their clinic: US Core Patient and Organization."""

from __future__ import annotations

import re

from sijcare.interop.fhir.base import Resource, canonical, category, fhir_id, meta, reference
from sijcare.store.episode_records import case_patient_id
from sijcare.store.models import Clinic, Patient


def organization_id(clinic: Clinic) -> str:
    return fhir_id("clinic", clinic.id)


def identifier_system(clinic: Clinic) -> str:
    """The clinic's patient numbers: one system per clinic, named by the clinic's name (kept
    when a clinic's records move to another sijcare), since a number is unique only there."""
    slug = re.sub(r"[^a-z0-9]+", "-", clinic.name.lower()).strip("-") or "clinic"
    return canonical(f"clinic/{slug}/patient")


def organization(clinic: Clinic) -> Resource:
    return {"resourceType": "Organization", "id": organization_id(clinic),
            "meta": meta("organization"), "active": True, "name": clinic.name}


def patient(row: Patient) -> Resource:
    """Identified by the clinic number, or by the id sijcare's assessments name the patient
    by when there is none; demo and generated patients carry the HTEST security label."""
    found: Resource = {
        "resourceType": "Patient", "id": str(row.id), "meta": meta("patient"),
        "identifier": [{"system": identifier_system(row.clinic),
                        "value": case_patient_id(row)}],
        "name": [{"family": row.family_name, "given": [row.given_name]}],
        "gender": row.sex, "birthDate": row.birth_date.isoformat(),
        "managingOrganization": reference("Organization", organization_id(row.clinic),
                                          row.clinic.name),
    }
    if row.demo:
        found["meta"] = {**found["meta"], "security": category("synthetic")["coding"]}
    return found

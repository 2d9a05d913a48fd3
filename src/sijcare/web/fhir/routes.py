"""The FHIR REST face: read-only, for a signed-in clinician of the patient's clinic.

Patients arrive only through the patient-scoped dependencies (`web/scope.py`), so the access
rules and the audit entry are the pages' own: another clinic's patient answers 404, a role
without clinical access 403, and every answer is audited. `$everything` is an export as well
as a read: it gets an export entry too.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import or_, select

from sijcare.instruments.odi_text import odi_sections
from sijcare.interop.fhir.check import checked
from sijcare.interop.fhir.codesystem import code_system
from sijcare.interop.fhir.export import bundle, patient_resources
from sijcare.interop.fhir.patient import identifier_system, patient
from sijcare.interop.fhir.questionnaires import questionnaires
from sijcare.reports.pdf import signed_report
from sijcare.store import Patient, record_event
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import clinic_scope, patient_scope
from sijcare.web.deps import CurrentActor, DbSession, require
from sijcare.web.fhir.capability import capability_statement
from sijcare.web.fhir.outcomes import PREFIX, FhirResponse

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Reading = Annotated[Patient, Depends(patient_scope(Permission.clinical_read))]
Searching = Annotated[Actor, Depends(clinic_scope(Permission.clinical_read))]
Clinical = Annotated[Actor, Depends(require(Permission.clinical_read))]
Token = Annotated[str | None, Query(max_length=300)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _pdf(signed, owner, signer: str) -> bytes:
    return signed_report(signed, owner, signer).pdf


def _searchset(request: Request, resources: list[dict]) -> FhirResponse:
    return FhirResponse(bundle([checked(r) for r in resources], _base(request), "searchset"))


@router.get("/metadata", name="fhir.metadata")
def metadata(request: Request) -> FhirResponse:
    """Open to all, as FHIR clients expect: it names no patient."""
    return FhirResponse(capability_statement(_base(request), dt.date.today().isoformat()))


@router.get("/Patient/{patient_id}", name="fhir.patient")
def read_patient(found: Reading) -> FhirResponse:
    return FhirResponse(checked(patient(found)))


@router.get("/Patient/{patient_id}/$everything", name="fhir.everything")
def everything(request: Request, db: DbSession, actor: CurrentActor, found: Reading,
               note: Audited) -> FhirResponse:
    resources = patient_resources(db, found.id, _pdf)
    note.detail["resources"] = len(resources)
    record_event(db, actor.id, "export", "patient", found.id, found.clinic_id,
                 {"via": "GET /fhir/Patient/{id}/$everything", "format": "fhir-bundle",
                  "resources": len(resources)})
    return _searchset(request, resources)


def _token(value: str) -> tuple[str | None, str]:
    """`system|code` or `code` alone."""
    system, bar, code = value.partition("|")
    return (system or None, code) if bar else (None, value)


@router.get("/Patient", name="fhir.patient_search")
def search_patients(request: Request, db: DbSession, actor: Searching, note: Audited,
                    identifier: Token = None) -> FhirResponse:
    if not identifier:
        raise HTTPException(400, "Search patients by identifier (system|value or value).")
    system, value = _token(identifier)
    numbered = [Patient.external_id == value]
    if value.startswith("patient-") and value[8:].isdigit():
        numbered.append(Patient.id == int(value[8:]))
    rows = db.scalars(select(Patient).where(Patient.clinic_id.in_(actor.clinic_ids),
                                            Patient.merged_into_id.is_(None),
                                            or_(*numbered)).order_by(Patient.id)).all()
    found = [patient(r) for r in rows if system in (None, identifier_system(r.clinic))]
    note.object_type = "patient_list"
    note.detail.update(identifier=identifier, shown=[int(r["id"]) for r in found])
    return _searchset(request, found)


@router.get("/Observation", name="fhir.observation_search")
def search_observations(request: Request, db: DbSession, actor: CurrentActor, note: Audited,
                        patient_id: Annotated[int | None, Query(
                            alias="patient", ge=1, le=2**31 - 1)] = None,
                        code: Token = None) -> FhirResponse:
    if patient_id is None:
        raise HTTPException(400, "Name the patient: Observation?patient=ID[&code=...].")
    found = patient_scope(Permission.clinical_read)(patient_id, db, actor, note)
    observations = [r for r in patient_resources(db, found.id)
                    if r["resourceType"] == "Observation"]
    if code:
        system, wanted = _token(code)
        observations = [r for r in observations if any(
            c["code"] == wanted and system in (None, c["system"])
            for c in r["code"]["coding"])]
    note.detail.update(code=code, shown=len(observations))
    return _searchset(request, observations)


def _questionnaires() -> list[dict]:
    sections = odi_sections()
    licensed = sections if sections and sections[0]["choices"] else None
    return questionnaires(licensed)


@router.get("/Questionnaire", name="fhir.questionnaires")
def list_questionnaires(request: Request, actor: Clinical) -> FhirResponse:
    return _searchset(request, _questionnaires())


@router.get("/Questionnaire/{questionnaire_id}", name="fhir.questionnaire")
def read_questionnaire(actor: Clinical, questionnaire_id: str) -> FhirResponse:
    found = next((q for q in _questionnaires() if q["id"] == questionnaire_id), None)
    if found is None:
        raise HTTPException(404, f"No Questionnaire {questionnaire_id[:60]}.")
    return FhirResponse(checked(found))


@router.get("/CodeSystem/sijcare", name="fhir.codesystem")
def read_code_system(actor: Clinical) -> FhirResponse:
    return FhirResponse(code_system())

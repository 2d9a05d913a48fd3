"""What every resource shares: profiles, ids, references, codeable concepts, dates.

Resources are plain JSON-ready dicts: a bulk export builds millions of them, and a pydantic
model costs forty times the JSON it becomes (the R4B models check what leaves, at the edge,
see `check.py`). Resource ids are derived from the record they come from, so exporting the
same record twice gives the same resource.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sijcare.knowledge.terminology import Coding, load_terminology
from sijcare.labels import label

Resource = dict[str, Any]

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
BASE = "http://hl7.org/fhir/StructureDefinition/"
PROFILES = {
    "patient": US_CORE + "us-core-patient",
    "organization": US_CORE + "us-core-organization",
    "problem": US_CORE + "us-core-condition-problems-health-concerns",
    "diagnosis": US_CORE + "us-core-condition-encounter-diagnosis",
    "assessment": US_CORE + "us-core-observation-screening-assessment",
    "clinical": US_CORE + "us-core-observation-clinical-result",
    "procedure": US_CORE + "us-core-procedure",
    "allergy": US_CORE + "us-core-allergyintolerance",
    # US Core 6.1 profiles no MedicationStatement (it lists medications as MedicationRequest):
    # the patient's own account of a medicine is a MedicationStatement of base R4.
    "medication": BASE + "MedicationStatement",
    "response": US_CORE + "us-core-questionnaireresponse",
    "careplan": US_CORE + "us-core-careplan",
    "request": US_CORE + "us-core-servicerequest",
    "provenance": US_CORE + "us-core-provenance",
    "document": US_CORE + "us-core-documentreference",
    "questionnaire": BASE + "Questionnaire",
    "codesystem": BASE + "CodeSystem",
    "list": BASE + "List",  # no US Core profile: a confirmed "none" (imaging, blocks...)
}


def meta(profile: str) -> dict[str, list[str]]:
    return {"profile": [PROFILES[profile]]}


def fhir_id(*parts: object) -> str:
    """`kind-12-code`: FHIR ids take letters, digits, '-' and '.' only."""
    return "-".join(str(p) for p in parts).replace("_", "-")


def reference(resource_type: str, resource_id: str, display: str | None = None
              ) -> dict[str, str]:
    found = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        found["display"] = display
    return found


def canonical(path: str) -> str:
    """A canonical URL of sijcare's (`Questionnaire/odi`, `CodeSystem/sijcare`)."""
    return f"{load_terminology().canonical}/{path}"


@cache
def own(code: str) -> Coding:
    """The coding of a sijcare vocabulary code, displayed by its one label (made once per
    code and shared, as the terminology's standard codings are: a resource is read, never
    changed, once made)."""
    return {"system": load_terminology().codesystem, "code": code, "display": label(code)}


@cache
def _codings(code: str) -> tuple[Coding, ...]:
    """The standard codings of a vocabulary code, then its own (once per code: a bulk
    export asks for the same few codes a million times)."""
    return (*load_terminology().codings(code), own(code))


def concept(code: str, *standard: Coding) -> dict[str, Any]:
    """A CodeableConcept: the standard codings that mean the same first, sijcare's own
    code with them, and the label as text."""
    return {"coding": [*standard, *_codings(code)], "text": label(code)}


def category(name: str) -> dict[str, Any]:
    return {"coding": [load_terminology().category(name)]}


def status_concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system}",
                        "code": code}]}


def condition_status(voided: bool, clinical: str, verification: str) -> dict[str, Any]:
    """A Condition's two statuses; one entered in error has no clinical status (con-5)."""
    if voided:
        return {"verificationStatus": status_concept("condition-ver-status",
                                                     "entered-in-error")}
    return {"clinicalStatus": status_concept("condition-clinical", clinical),
            "verificationStatus": status_concept("condition-ver-status", verification)}


def instant(moment: dt.datetime) -> str:
    """A stored naive-UTC timestamp as FHIR's instant."""
    return moment.replace(tzinfo=dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def user_reference(username: str | None) -> dict[str, Any] | None:
    """A clinician by their account: sijcare keeps no names to make a Practitioner of, so
    the reference is logical (an identifier), with the username shown."""
    if username is None:
        return None
    return {"identifier": {"system": canonical("user"), "value": username},
            "display": username}


def objects(value: object) -> list[dict[str, Any]]:
    """The JSON objects of a list read from outside (anything else holds none): an EHR's
    prefetch or draft orders may put any value where FHIR says a list."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def pruned(resource: Resource) -> Resource:
    """Without the keys whose value is None, [] or {}: FHIR JSON never carries empty values."""
    return {k: v for k, v in resource.items() if v is not None and v != [] and v != {}}

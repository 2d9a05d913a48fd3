"""Layer 3: FHIRPath invariants (fhirpathpy, R4 model): R4's own constraints the JSON schema
cannot express, and the promises sijcare's export makes."""

from __future__ import annotations

import pytest
from fhirpathpy import evaluate
from fhirpathpy.models import models

R4 = models["r4"]
EVERY = "*"
INVARIANTS = [  # (resource type, id, expression)
    ("Condition", "con-5", "verificationStatus.coding.where(system = 'http://terminology.hl7"
     ".org/CodeSystem/condition-ver-status' and code = 'entered-in-error').empty() or "
     "clinicalStatus.empty()"),
    ("Condition", "con-4", "abatement.empty() or clinicalStatus.coding.where(system = "
     "'http://terminology.hl7.org/CodeSystem/condition-clinical' and (code = 'resolved' or "
     "code = 'remission' or code = 'inactive')).exists()"),
    ("AllergyIntolerance", "ait-2", "verificationStatus.coding.where(system = 'http://"
     "terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = "
     "'entered-in-error').exists() or clinicalStatus.exists()"),
    ("Observation", "obs-6", "dataAbsentReason.empty() or value.empty()"),
    ("Observation", "obs-7", "value.empty() or component.code.where(coding.intersect("
     "%resource.code.coding).exists()).empty()"),
    ("QuestionnaireResponse", "qrs-1", "item.all((answer.exists() and item.exists()).not())"),
    ("CarePlan", "us-core narrative", "text.status = 'generated' and text.`div`.exists()"),
    (EVERY, "sijcare: a declared profile", "meta.profile.count() = 1"),
    ("Observation", "sijcare: scores derive from their response",
     "code.coding.where(code = '97909-6').exists() implies derivedFrom.exists()"),
    ("QuestionnaireResponse", "us-core: questionnaireDisplay beside the canonical",
     "questionnaire.extension.where(url = 'http://hl7.org/fhir/StructureDefinition/display')"
     ".exists()"),
    ("Observation", "sijcare: a coded Observation carries sijcare's code",
     "code.coding.where(system = 'https://sijcare.org/fhir/CodeSystem/sijcare').exists()"),
]


@pytest.mark.parametrize(("resource_type", "name", "expression"), INVARIANTS,
                         ids=[i[1] for i in INVARIANTS])
def test_invariant_holds(resources: list[dict], resource_type: str, name: str,
                         expression: str) -> None:
    applies = [r for r in resources if resource_type in (EVERY, r["resourceType"])]
    assert applies, f"no {resource_type} exported: {name} tests nothing"
    broken = [f"{r['resourceType']}/{r['id']}" for r in applies
              if evaluate(r, expression, {"resource": r}, R4) != [True]]
    assert broken == []


def test_an_invariant_catches_what_it_guards(resources: list[dict]) -> None:
    condition = next(r for r in resources if r["resourceType"] == "Condition")
    voided = {**condition, "verificationStatus": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "code": "entered-in-error"}]}}
    assert evaluate(voided, INVARIANTS[0][2], {"resource": voided}, R4) == [False]

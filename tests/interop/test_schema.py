"""Layer 1: every exported resource against HL7's R4 JSON schema, per resource type.

Known gap, handled here and nowhere else: the schema has no `_x` sibling for `canonical`
properties, so US Core's questionnaire-display extension on
`QuestionnaireResponse._questionnaire` fails it. That one key is checked for its exact shape
and taken out before the schema check; the extension itself is kept in the export.
"""

from __future__ import annotations

import json
from functools import cache

import pytest
from jsonschema import Draft6Validator

from sijcare.interop.fhir.responses import DISPLAY
from tests.interop.conftest import FIXTURES


@pytest.fixture(scope="session")
def schema() -> dict:
    return json.loads((FIXTURES / "fhir.schema.r4.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def validator_for(schema: dict):
    """One Draft6Validator per resource type, built once per session."""

    @cache
    def build(resource_type: str) -> Draft6Validator:
        return Draft6Validator({"$ref": f"#/definitions/{resource_type}",
                                "definitions": schema["definitions"]})

    return build


def without_canonical_gap(resource: dict) -> dict:
    if resource["resourceType"] != "QuestionnaireResponse":
        return resource
    display = resource.get("_questionnaire")
    assert display == {"extension": [{"url": DISPLAY, "valueString": display["extension"][0][
        "valueString"]}]}, resource["id"]
    return {k: v for k, v in resource.items() if k != "_questionnaire"}


def test_every_resource_is_valid_r4(resources: list[dict], validator_for) -> None:
    problems = []
    for resource in resources:
        validator = validator_for(resource["resourceType"])
        for error in validator.iter_errors(without_canonical_gap(resource)):
            problems.append(f"{resource['resourceType']}/{resource['id']}: "
                            f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}")
    assert problems == []


def test_the_gap_is_real_and_only_that_key(resources: list[dict], validator_for) -> None:
    """If the schema ever learns `_questionnaire`, this special case must go."""
    response = next(r for r in resources if r["resourceType"] == "QuestionnaireResponse")
    errors = list(validator_for("QuestionnaireResponse").iter_errors(response))
    assert errors and all("_questionnaire" in e.message for e in errors)


def test_the_schema_catches_a_broken_resource(resources: list[dict], validator_for) -> None:
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert not validator_for("Patient").is_valid({**patient, "gender": "F"})

"""Layer 2: US Core 6.1 profiles, offline, with @medplum/core and the vendored package
(`us_core_validate.cjs`, run through node; scripts/test installs medplum into
`.fhir-validator`, like `.axe`). Every resource must validate against the profile it
declares; resources of base profiles (MedicationStatement, Questionnaire, CodeSystem)
against base R4."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.interop.conftest import FIXTURES

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / ".fhir-validator" / "node_modules"
SCRIPT = Path(__file__).with_name("us_core_validate.cjs")
# Profiles medplum 4.x cannot read (its slicing parser): the resource is then checked against
# base R4 only, and this list says so instead of hiding it.
UNLOADABLE = {"http://hl7.org/fhir/us/core/StructureDefinition/us-core-provenance"}

pytestmark = pytest.mark.skipif(
    not (MODULES / "@medplum" / "core").exists() or shutil.which("node") is None,
    reason="!!! @medplum/core not installed (run scripts/test): US Core checks SKIPPED !!!")


def validate(resources: list[dict]) -> tuple[dict, list[dict]]:
    lines = "".join(json.dumps(r) + "\n" for r in resources)
    run = subprocess.run(["node", str(SCRIPT), str(MODULES), str(FIXTURES / "us-core-6.1.0")],
                         input=lines, capture_output=True, text=True, timeout=300, check=True)
    first, *rest = run.stdout.splitlines()
    return json.loads(first)["unloadable"], [json.loads(line) for line in rest]


def test_every_resource_meets_its_profile(resources: list[dict]) -> None:
    unloadable, results = validate(resources)
    assert set(unloadable) == UNLOADABLE
    errors = {r["id"]: [i for i in r["issues"] if i["severity"] in ("error", "fatal")]
              for r in results}
    assert {k: v for k, v in errors.items() if v} == {}
    checked = {r["id"] for r in results if r["profile"]}
    us_core = {f"{r['resourceType']}/{r['id']}" for r in resources
               if r["meta"]["profile"][0].startswith("http://hl7.org/fhir/us/core/")
               and r["meta"]["profile"][0] not in UNLOADABLE}
    assert checked == us_core


def test_the_validator_catches_a_missing_must(resources: list[dict]) -> None:
    condition = next(r for r in resources if r["resourceType"] == "Condition")
    broken = {k: v for k, v in condition.items() if k != "category"}
    _, (result,) = validate([broken])
    assert any(i["severity"] == "error" for i in result["issues"])

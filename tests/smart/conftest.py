"""The clinic app configured as a SMART client of the test EHR (tests/smart/ehr.py), whose
FHIR server holds the hospital's copy of Ada (whom sijcare knows), a bare stranger, and a
Synthea patient sijcare has never seen (with a record to import), each with a launch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient

from sijcare.interop.fhir.export import patient_resources
from sijcare.web import Settings, create_app
from tests.smart.ehr import Ehr
from tests.web.conftest import World, build_world

PUBLIC_URL = "https://sijcare.test"
REDIRECT = PUBLIC_URL + "/smart/callback"
SYNTHEA = (Path(__file__).parents[1] / "interop" / "fixtures" / "synthea"
           / "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json")


@dataclass
class Launching:
    world: World
    ehr: Ehr
    episode_id: int
    clemente: str  # the EHR's id of the Synthea patient

    def browser(self) -> TestClient:
        return TestClient(self.world.app)


def served(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """A transaction Bundle's resources as a FHIR server serves them: `urn:uuid:` references
    become `Type/id`."""
    text = json.dumps([e["resource"] for e in bundle["entry"]])
    for entry in bundle["entry"]:
        resource = entry["resource"]
        text = text.replace(f'"{entry["fullUrl"]}"',
                            f'"{resource["resourceType"]}/{resource["id"]}"')
    return json.loads(text)


def build_launching(directory: Path) -> Launching:
    world = build_world(directory)
    ehr = Ehr("sijcare", "client-secret-of-sijcare", REDIRECT)
    issuers = directory / "smart.json"
    issuers.write_text(json.dumps({ehr.fhir_base: {
        "client_id": "sijcare", "client_secret": "client-secret-of-sijcare",
        "users": {"Practitioner/dr-west": "clinician", "Practitioner/dr-staff": "staff"}}}))
    with world.sessions() as db:
        ada = next(r for r in patient_resources(db, world.ids["patient"])
                   if r["resourceType"] == "Patient")
    ehr.patients["ehr-123"] = {**ada, "id": "ehr-123"}  # the hospital's copy of Ada
    ehr.patients["ehr-999"] = {"resourceType": "Patient", "id": "ehr-999", "identifier": [
        {"system": "urn:oid:2.16.840.1.113883.19.5", "value": "12345"}]}
    record = served(json.loads(SYNTHEA.read_text(encoding="utf-8")))
    clemente = next(r for r in record if r["resourceType"] == "Patient")
    ehr.patients[clemente["id"]] = clemente
    ehr.records[clemente["id"]] = [r for r in record if r is not clemente]
    ehr.launches.update({"L-ada": {"patient": "ehr-123", "encounter": "enc-9"},
                         "L-stranger": {"patient": "ehr-999"},
                         "L-clemente": {"patient": clemente["id"]}})
    world.app = create_app(Settings(database_url=str(world.engine.url),
                                    secret_key=b"test secret", public_url=PUBLIC_URL,
                                    smart_issuers=issuers, grant_dir=directory / "grants"),
                           world.engine)
    return Launching(world, ehr, world.ids["episode"], clemente["id"])


@pytest.fixture(scope="module")
def launching(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launching]:
    built = build_launching(tmp_path_factory.mktemp("smart"))
    yield built
    built.ehr.close()
    built.world.engine.dispose()


def launch(launching: Launching, browser: TestClient, launch: str | None = None):
    """The launch through the EHR's authorization server: the request sent to it, and the
    callback's answer."""
    params = {"iss": launching.ehr.fhir_base, **({"launch": launch} if launch else {})}
    started = browser.get("/smart/launch", params=params, follow_redirects=False)
    assert started.status_code == 303, started.text
    authorized = httpx.get(started.headers["location"], follow_redirects=False)
    assert authorized.status_code == 302, authorized.text
    back = urlparse(authorized.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    return started, browser.get("/smart/callback", params=query, follow_redirects=False)

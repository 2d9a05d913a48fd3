"""The FHIR REST face: access exactly as on the pages, OperationOutcome refusals, audit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent
from tests.web.conftest import World

FHIR_JSON = "application/fhir+json"


def test_metadata_tells_what_is_implemented_and_needs_no_sign_in(world_client: TestClient):
    answer = world_client.get("/fhir/metadata")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    statement = answer.json()
    assert statement["resourceType"] == "CapabilityStatement"
    types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert types == {"Patient", "Observation", "Questionnaire", "CodeSystem"}
    for resource in statement["rest"][0]["resource"]:  # every claim answers
        assert resource["interaction"]


def test_clinician_reads_patient_and_everything(world: World, clinician: TestClient):
    patient_id = world.ids["patient"]
    answer = clinician.get(f"/fhir/Patient/{patient_id}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["identifier"][0]["value"] == "N-1"
    everything = clinician.get(f"/fhir/Patient/{patient_id}/$everything").json()
    kinds = {e["resource"]["resourceType"] for e in everything["entry"]}
    assert {"Patient", "Organization", "Condition", "DocumentReference", "Provenance",
            "CarePlan", "ServiceRequest"} <= kinds
    assert everything["type"] == "searchset" and everything["total"] == len(everything["entry"])
    assert all(e["fullUrl"].startswith("http://testserver/fhir/") for e in everything["entry"])


def test_access_is_the_pages_own(world: World, clients: dict[str, TestClient],
                                 world_client: TestClient):
    path = f"/fhir/Patient/{world.ids['patient']}"
    expected = {"clinician": 200, "staff": 403, "researcher": 403, "admin": 403,
                "south_clinician": 404, "south_staff": 403}
    for user, status in expected.items():
        for suffix in ("", "/$everything"):
            answer = clients[user].get(path + suffix)
            assert answer.status_code == status, (user, suffix, answer.text)
            if status != 200:
                assert answer.headers["content-type"].startswith(FHIR_JSON)
                assert answer.json()["resourceType"] == "OperationOutcome"
    anonymous = world_client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.json()["issue"][0]["code"] == "login"
    south = clients["south_clinician"].get(
        f"/fhir/Observation?patient={world.ids['patient']}")
    assert south.status_code == 404


def test_search_by_identifier_sees_only_own_clinics(world: World,
                                                    clients: dict[str, TestClient]):
    mine = clients["clinician"].get("/fhir/Patient?identifier=N-1").json()
    assert [e["resource"]["id"] for e in mine["entry"]] == [str(world.ids["patient"])]
    system = mine["entry"][0]["resource"]["identifier"][0]["system"]
    assert clients["clinician"].get(f"/fhir/Patient?identifier={system}|N-1").json()["total"] == 1
    assert clients["clinician"].get("/fhir/Patient?identifier=other|N-1").json()["total"] == 0
    assert clients["south_clinician"].get("/fhir/Patient?identifier=N-1").json()["total"] == 0
    assert clients["staff"].get("/fhir/Patient?identifier=N-1").status_code == 403
    assert clients["clinician"].get("/fhir/Patient").status_code == 400


def test_observations_by_patient_and_code(world: World, clinician: TestClient):
    patient_id = world.ids["patient"]
    pain = clinician.get(f"/fhir/Observation?patient={patient_id}&code=http://loinc.org|72514-3")
    assert pain.status_code == 200
    values = [e["resource"]["valueInteger"] for e in pain.json()["entry"]]
    assert values == [6]  # the intake's pain score
    assert clinician.get(f"/fhir/Observation?patient={patient_id}&code=99999-9"
                         ).json()["total"] == 0
    assert clinician.get("/fhir/Observation?code=72514-3").status_code == 400


def test_questionnaires_without_licensed_odi_wording(clients: dict[str, TestClient]):
    listed = clients["clinician"].get("/fhir/Questionnaire").json()
    ids = [e["resource"]["id"] for e in listed["entry"]]
    assert ids == ["odi", "nrs", "pgic", "self-screen"]
    odi = clients["clinician"].get("/fhir/Questionnaire/odi").json()
    assert [o["valueCoding"]["display"] for o in odi["item"][0]["answerOption"]] == [
        "0", "1", "2", "3", "4", "5"]
    assert clients["clinician"].get("/fhir/Questionnaire/nope").status_code == 404
    assert clients["staff"].get("/fhir/Questionnaire").status_code == 403


def test_reads_and_exports_are_audited(world: World, clinician: TestClient):
    patient_id = world.ids["patient"]
    with world.sessions() as db:
        before = db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    clinician.get(f"/fhir/Patient/{patient_id}/$everything")
    with world.sessions() as db:
        new = db.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert {(e.action, e.object_type, e.object_id) for e in new} >= {
        ("read", "patient", str(patient_id)), ("export", "patient", str(patient_id))}

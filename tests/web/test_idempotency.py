"""`Idempotency-Key` on the JSON API's writes: a retried write answers the first answer and
writes nothing again; a key reused for another request is refused with its name."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sijcare.store import AuditEvent
from sijcare.store.models import Patient, PromRecord
from tests.web.conftest import TODAY, World

PATIENT = {"given_name": "Retry", "family_name": "Once", "sex": "female",
           "birth_date": "1961-04-05"}


def patients_named(world: World, family_name: str) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count()).select_from(Patient).where(
            Patient.family_name == family_name)) or 0


def test_a_retried_registration_answers_the_first_answer_and_saves_one_patient(
        world: World, clinician: TestClient) -> None:
    key = {"Idempotency-Key": "8a7c1f0e-registration"}
    first = clinician.post("/api/v1/patients", json=PATIENT, headers=key)
    again = clinician.post("/api/v1/patients", json=PATIENT, headers=key)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert patients_named(world, "Once") == 1
    with world.sessions() as db:
        last = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None and last.detail is not None
    assert (last.action, last.detail["outcome"], last.detail["status"]) == (
        "write", "replayed", 201)


def test_the_same_key_with_another_body_is_refused_naming_the_header(
        world: World, clinician: TestClient) -> None:
    key = {"Idempotency-Key": "reused-key"}
    assert clinician.post("/api/v1/patients", json={**PATIENT, "family_name": "Twice"},
                          headers=key).status_code == 201
    other = clinician.post("/api/v1/patients", json={**PATIENT, "family_name": "Thrice"},
                           headers=key)
    assert other.status_code == 422
    [problem] = other.json()["detail"]
    assert problem["loc"] == ["header", "Idempotency-Key"]
    assert "used for another request" in problem["msg"]
    assert patients_named(world, "Thrice") == 0


def test_without_a_key_each_request_writes(world: World, clinician: TestClient) -> None:
    for _ in range(2):
        assert clinician.post("/api/v1/patients",
                              json={**PATIENT, "family_name": "Keyless"}).status_code == 201
    assert patients_named(world, "Keyless") == 2


def test_a_refused_write_does_not_use_its_key_up(world: World, clinician: TestClient) -> None:
    key = {"Idempotency-Key": "first-try-was-bad"}
    bad = clinician.post("/api/v1/patients", json={**PATIENT, "sex": "robot"}, headers=key)
    assert bad.status_code == 422
    good = clinician.post("/api/v1/patients", json={**PATIENT, "family_name": "Fixed"},
                          headers=key)
    assert good.status_code == 201 and patients_named(world, "Fixed") == 1


def test_keys_belong_to_their_user(world: World, clinician: TestClient) -> None:
    key = {"Idempotency-Key": "shared-words"}
    other = world.signed_in("staff")
    mine = clinician.post("/api/v1/patients", json={**PATIENT, "family_name": "Mine"},
                          headers=key)
    theirs = other.post("/api/v1/patients", json={**PATIENT, "family_name": "Theirs"},
                        headers=key)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers


@pytest.mark.parametrize("key", [b"", b"x" * 256, "caf\u00e9".encode()])
def test_a_malformed_key_is_refused(clinician: TestClient, key: bytes) -> None:
    answer = clinician.post("/api/v1/patients", json=PATIENT, headers={"Idempotency-Key": key})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def test_a_retried_record_is_recorded_once(world: World, clinician: TestClient) -> None:
    episode = world.ids["episode"]
    body = {"recorded_on": TODAY.isoformat(),
            "data": {"date": TODAY.isoformat(), "instrument": "nrs", "value": 4}}
    key = {"Idempotency-Key": "prom-once"}
    with world.sessions() as db:
        before = db.scalar(select(func.count()).select_from(PromRecord))
    answers = [clinician.post(f"/api/v1/episodes/{episode}/records/prom", json=body,
                              headers=key) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert answers[0].json() == answers[2].json()
    with world.sessions() as db:
        assert db.scalar(select(func.count()).select_from(PromRecord)) == before + 1


def test_the_openapi_document_names_the_header_on_every_write(world: World) -> None:
    paths = world.client().get("/api/openapi.json").json()["paths"]
    for path, method in (("/api/v1/patients", "post"),
                         ("/api/v1/patients/{patient_id}/episodes", "post"),
                         ("/api/v1/episodes/{episode_id}/records/{kind}", "post"),
                         ("/api/v1/episodes/{episode_id}/records/{kind}/{record_id}/void",
                          "post"),
                         ("/api/v1/episodes/{episode_id}/signatures", "post")):
        [header] = [p for p in paths[path][method]["parameters"]
                    if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert "same key and the same body returns the first answer" in header["description"]

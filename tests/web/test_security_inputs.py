"""Issue 6, defects 1, 2, 4, 5 and 8: what the API does with hostile or loose input.

Non-finite numbers and lone surrogates answered 500, 422 answers echoed passwords, bodies had
no size limit, and loose coercion let `0`, `"yes"` and future dates into the record.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from sijcare.web import Settings, create_app
from tests.web.conftest import TODAY, World

RAW_NOT_JSON = [b'{"username": NaN, "password": "x"}', b'{"username": Infinity, "password": 1}',
                b'{"username": -Infinity, "password": "x"}', b'{"username": 1e309}',
                b'{"username": "\\ud800", "password": "x"}',
                b'{"username": {"\\udfff": 1}, "password": "x"}',
                b'[' * 5000 + b']' * 5000, b'{"username": ' + b'9' * 5000 + b'}',
                b'{"username": "caf\xe9"}']


def anonymous(world: World) -> TestClient:
    client = world.client()
    client.headers["x-csrf-token"] = client.get("/api/v1/session").json()["csrf_token"]
    return client


def post_raw(client: TestClient, path: str, body: bytes):
    return client.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("body", RAW_NOT_JSON)
def test_json_that_is_not_json_answers_422_not_500(world: World, body: bytes) -> None:
    answer = post_raw(anonymous(world), "/api/v1/session", body)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body"]
    assert "input" not in problem
    assert len(answer.content) < 500


@pytest.mark.parametrize("body", RAW_NOT_JSON[:5])
def test_non_finite_numbers_never_reach_an_assessment(clinician: TestClient,
                                                      body: bytes) -> None:
    answer = post_raw(clinician, "/api/v1/assess", body.replace(b"username", b"pain_nrs"))
    assert answer.status_code == 422


def test_a_wrong_type_names_the_field_and_never_echoes_the_value(world: World) -> None:
    secret = "my-secret-password-value"
    client = anonymous(world)
    for body in ({"username": "clinician", "password": [secret]},
                 {"username": {"nested": secret}, "password": secret},
                 {"username": secret * 100, "password": 1}):
        answer = client.post("/api/v1/session", json=body)
        assert answer.status_code == 422
        assert secret not in answer.text
        for problem in answer.json()["detail"]:
            assert set(problem) == {"loc", "msg", "type"}


def test_an_unknown_huge_key_is_named_briefly(clinician: TestClient, world: World) -> None:
    answer = clinician.post(f"/api/v1/episodes/{world.ids['episode']}/records/intake",
                            json={"recorded_on": TODAY.isoformat(), "data": {"k" * 100_000: 1}})
    assert answer.status_code == 422
    assert len(answer.content) < 1000


def limited(world: World, limit: int) -> TestClient:
    app = create_app(Settings(database_url="sqlite://", secret_key=b"test secret",
                              clock=world.clock, max_body_bytes=limit), world.engine)
    client = TestClient(app)
    client.headers["x-csrf-token"] = client.get("/api/v1/session").json()["csrf_token"]
    return client


def test_a_body_over_the_limit_answers_413_unread(world: World) -> None:
    client = limited(world, 1000)
    small = client.post("/api/v1/session", json={"username": "x", "password": "y" * 800})
    assert small.status_code == 401
    answer = client.post("/api/v1/session", json={"username": "x", "password": "y" * 20_000})
    assert answer.status_code == 413
    assert answer.headers["connection"] == "close"
    assert len(answer.content) < 300
    page = client.post("/login", data={"username": "x", "password": "y" * 2000})
    assert page.status_code == 413 and "<h1>Too large</h1>" in page.text


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(world: World) -> None:
    """(Over a real connection in test_security_errors.py.)"""
    client = limited(world, 1000)
    chunks = (b"x" * 1000 for _ in range(100))
    answer = client.post("/api/v1/session", content=chunks,
                         headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "content-length" not in answer.request.headers


def test_the_default_limit_is_a_megabyte(world: World) -> None:
    answer = anonymous(world).post("/api/v1/session", content=b" " * (1024 * 1024 + 1),
                                   headers={"content-type": "application/json"})
    assert answer.status_code == 413


RECORDS = "/api/v1/episodes/{episode}/records/{kind}"


def add(client: TestClient, world: World, kind: str, data: dict, recorded_on: object = None):
    return client.post(RECORDS.format(episode=world.ids["episode"], kind=kind),
                       json={"recorded_on": TODAY.isoformat() if recorded_on is None
                             else recorded_on, "data": data})


@pytest.mark.parametrize("recorded_on", [0, 20261201, "2026-12-01T00:00:00", "2026-W01-1",
                                         "2026-001", "9999-12-31", "0001-01-01", "1899-12-31",
                                         (TODAY + dt.timedelta(days=1)).isoformat(), True])
def test_a_record_date_is_a_real_past_day_written_yyyy_mm_dd(
        clinician: TestClient, world: World, recorded_on: object) -> None:
    before = clinician.get(f"/api/v1/episodes/{world.ids['episode']}/records").json()
    answer = add(clinician, world, "medications",
                 {"anticoagulant": True, "allergies": ["contrast"]}, recorded_on)
    assert answer.status_code == 422, answer.text
    assert [p["loc"] for p in answer.json()["detail"]] == [["body", "recorded_on"]]
    assert clinician.get(f"/api/v1/episodes/{world.ids['episode']}/records").json() == before


@pytest.mark.parametrize("value", [0, 1, "yes", "off", "true", None.__class__.__name__])
def test_a_yes_no_is_true_or_false_only(clinician: TestClient, world: World,
                                        value: object) -> None:
    answer = add(clinician, world, "medications", {"anticoagulant": value})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "data", "anticoagulant"]


def test_dates_inside_a_record_cannot_lie_in_the_future(clinician: TestClient,
                                                        world: World) -> None:
    answer = add(clinician, world, "imaging", {"date": "9999-12-31", "modality": "mri",
                                               "findings": []}, "9999-12-31")
    assert answer.status_code == 422
    answer = add(clinician, world, "intake", {"pain_onset": "0001-01-01"})
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "data", "pain_onset"] and "1900" in problem["msg"]


def test_an_empty_record_is_refused(clinician: TestClient, world: World) -> None:
    for kind in ("intake", "exam"):
        answer = add(clinician, world, kind, {})
        assert answer.status_code == 422
        assert "nothing was recorded" in answer.json()["detail"][0]["msg"]


PATIENT = {"given_name": "Cara", "family_name": "Check", "birth_date": "1980-04-05",
           "sex": "female"}


@pytest.mark.parametrize(("field", "value"), [
    ("given_name", "Ca\x00ra"), ("family_name", "Check\nInjected"), ("family_name", "A\x1bB"),
    ("external_id", "N-\t9"), ("birth_date", "9999-12-31"), ("birth_date", "0001-01-01"),
    ("birth_date", (TODAY + dt.timedelta(days=1)).isoformat()), ("birth_date", 0),
    ("birth_date", "1980-04-05T00:00:00"), ("given_name", 7)])
def test_a_registration_refuses_control_characters_and_impossible_births(
        clinician: TestClient, field: str, value: object) -> None:
    answer = clinician.post("/api/v1/patients", json={**PATIENT, field: value})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", field]


@pytest.mark.parametrize("body", [{"complaint": "Pain", "opened_on": "9999-12-31"},
                                  {"complaint": "Pain\x07", "opened_on": "2026-01-01"},
                                  {"complaint": "Pain", "opened_on": "2026-01-01",
                                   "closed_on": "9999-12-31"}])
def test_an_episode_has_real_past_dates(clinician: TestClient, world: World,
                                        body: dict) -> None:
    answer = clinician.post(f"/api/v1/patients/{world.ids['patient']}/episodes", json=body)
    assert answer.status_code == 422


def test_a_future_as_of_is_refused_on_the_page_and_the_api(clinician: TestClient,
                                                           world: World) -> None:
    future = (TODAY + dt.timedelta(days=365 * 4)).isoformat()
    api = clinician.get(f"/api/v1/episodes/{world.ids['episode']}/assessment",
                        params={"as_of": future})
    assert api.status_code == 422
    [problem] = api.json()["detail"]
    assert problem["loc"] == ["query", "as_of"] and "after today" in problem["msg"]
    page = clinician.get(f"/episodes/{world.ids['episode']}", params={"as_of": future})
    assert page.status_code == 422 and "as_of: is after today" in page.text
    for loose in ("2026-W01-1", "0"):
        assert clinician.get(f"/api/v1/episodes/{world.ids['episode']}/assessment",
                             params={"as_of": loose}).status_code == 422
    assert clinician.get(f"/api/v1/episodes/{world.ids['episode']}/assessment",
                         params={"as_of": TODAY.isoformat()}).status_code == 200


def test_signing_a_future_day_is_refused(clinician: TestClient, world: World) -> None:
    answer = clinician.post(f"/api/v1/episodes/{world.ids['episode']}/signatures",
                            json={"seen": "x", "as_of": "2030-01-01"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "as_of"]


def test_a_void_reason_has_no_control_characters(clinician: TestClient, world: World) -> None:
    answer = clinician.post(f"/api/v1/episodes/{world.ids['episode']}/records/intake/"
                            f"{world.ids['intake']}/void", json={"reason": "typo\r\nX: y"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "reason"]


def test_every_error_answer_is_plain_ascii_json(world: World) -> None:
    answer = post_raw(anonymous(world), "/api/v1/session", '{"usernäme": 1}'.encode())
    assert answer.status_code == 422
    assert answer.content.isascii()
    json.loads(answer.content)

"""The JSON API: pagination, the sort allow-list, 422 field paths, assess and sign."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from sijcare.engine import assess
from sijcare.model import load_case
from sijcare.store import User, create_user
from sijcare.web import Settings, create_app
from tests.conftest import EXAMPLES
from tests.web.conftest import TODAY, World


@pytest.fixture(scope="module")
def many(world: World, clinician: TestClient) -> list[int]:
    """25 more patients in the north clinic, with family names Api-00 ... Api-24."""
    return [clinician.post("/api/v1/patients", json={
        "given_name": "Paged", "family_name": f"Api-{i:02d}", "sex": "other",
        "birth_date": f"19{50 + i}-01-01"}).json()["id"] for i in range(25)]


def test_patients_come_in_pages(clinician: TestClient, many: list[int]) -> None:
    first = clinician.get("/api/v1/patients", params={"q": "api", "per_page": 10}).json()
    third = clinician.get("/api/v1/patients", params={"q": "api", "per_page": 10,
                                                      "page": 3}).json()
    assert (first["total"], first["page"], first["per_page"]) == (25, 1, 10)
    assert [p["family_name"] for p in first["items"]] == [f"Api-{i:02d}" for i in range(10)]
    assert [p["family_name"] for p in third["items"]] == [f"Api-{i:02d}" for i in range(20, 25)]
    assert all(p["synthetic"] is False for p in first["items"])


def test_patients_sort_by_an_allowed_key(clinician: TestClient, many: list[int]) -> None:
    down = clinician.get("/api/v1/patients", params={"q": "api", "sort": "-family_name",
                                                     "per_page": 3}).json()
    assert [p["family_name"] for p in down["items"]] == ["Api-24", "Api-23", "Api-22"]
    by_birth = clinician.get("/api/v1/patients", params={"q": "api", "sort": "birth_date",
                                                         "per_page": 2}).json()
    assert [p["birth_date"] for p in by_birth["items"]] == ["1950-01-01", "1951-01-01"]


@pytest.mark.parametrize("params", [{"sort": "password_hash"}, {"sort": "family_name;--"},
                                    {"per_page": 500}, {"page": 0}])
def test_bad_list_parameters_answer_422_with_their_path(clinician: TestClient,
                                                        params: dict) -> None:
    answer = clinician.get("/api/v1/patients", params=params)
    assert answer.status_code == 422
    (name,) = params
    assert [e["loc"] for e in answer.json()["detail"]] == [["query", name]]


def test_a_registration_with_bad_fields_names_them(clinician: TestClient) -> None:
    answer = clinician.post("/api/v1/patients", json={
        "given_name": "", "family_name": "X", "birth_date": "1990-02-30", "sex": "robot"})
    assert answer.status_code == 422
    locs = sorted(tuple(e["loc"]) for e in answer.json()["detail"])
    assert locs == [("body", "birth_date"), ("body", "given_name"), ("body", "sex")]


def test_a_record_with_bad_fields_names_each_path(world: World, clinician: TestClient) -> None:
    episode = world.ids["episode"]
    answer = clinician.post(f"/api/v1/episodes/{episode}/records/block", json={
        "recorded_on": TODAY.isoformat(),
        "data": {"date": TODAY.isoformat(), "guidance": "fluoroscopy",
                 "diary": [{"minutes": 0, "pain": 7}, {"minutes": 30, "pain": 12}]}})
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["detail"]] == [
        ["body", "data", "diary", 1, "pain"]]
    unknown = clinician.post(f"/api/v1/episodes/{episode}/records/lab",
                             json={"recorded_on": TODAY.isoformat(), "data": {}})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["path", "kind"]


def test_records_go_in_and_come_back_on_the_timeline(world: World,
                                                     clinician: TestClient) -> None:
    episode = world.ids["episode"]
    answer = clinician.post(f"/api/v1/episodes/{episode}/records/care_course", json={
        "recorded_on": TODAY.isoformat(),
        "data": {"type": "physical_therapy", "start": "2026-01-05", "end": "2026-03-01"}})
    assert answer.status_code == 201
    entries = clinician.get(f"/api/v1/episodes/{episode}/records").json()
    course = next(e for e in entries if e["id"] == answer.json()["id"]
                  and e["kind"] == "care_course")
    assert course["summary"] == ("Conservative care: physiotherapy from 2026-01-05 "
                                 "to 2026-03-01")  # in words: it is the line a person reads


@pytest.mark.parametrize("example", ["classic-sij.yaml", "red-flag.yaml",
                                     "after-injection.yaml"])
@pytest.mark.parametrize("policy", ["medicare", "clinic"])
def test_assess_answers_exactly_what_the_engine_says(clinician: TestClient, example: str,
                                                     policy: str) -> None:
    case = load_case(EXAMPLES / example)
    answer = clinician.post("/api/v1/assess", params={"policy": policy},
                            content=case.model_dump_json(exclude_none=True),
                            headers={"content-type": "application/json"})
    assert answer.status_code == 200
    assert answer.json() == json.loads(assess(case, policy=policy).model_dump_json())


def test_assess_names_the_bad_fields(clinician: TestClient) -> None:
    answer = clinician.post("/api/v1/assess", json={
        "as_of": "2026-11-01", "patient": {"id": "x"},
        "history": {"pain_nrs": 14, "side": "middle"}, "typo": 1})
    assert answer.status_code == 422
    locs = sorted(tuple(e["loc"]) for e in answer.json()["detail"])
    assert locs == [("body", "history", "pain_nrs"), ("body", "history", "side"),
                    ("body", "typo")]
    assert all(e["msg"] for e in answer.json()["detail"])
    policy = clinician.post("/api/v1/assess", params={"policy": "acme"},
                            json={"as_of": "2026-11-01", "patient": {"id": "x"}})
    assert policy.status_code == 422
    assert policy.json()["detail"][0]["loc"] == ["query", "policy"]


def test_researchers_may_assess_anonymous_cases(world: World) -> None:
    researcher = world.signed_in("researcher")
    case = {"as_of": "2026-11-01", "patient": {"id": "anon"}}
    assert researcher.post("/api/v1/assess", json=case).json()["stage"]


def test_signing_needs_the_assessment_that_was_read(world: World,
                                                    clinician: TestClient) -> None:
    episode = world.ids["episode"]
    read = clinician.get(f"/api/v1/episodes/{episode}/assessment",
                         params={"policy": "clinic", "as_of": TODAY.isoformat()})
    assert read.status_code == 200
    body = {"seen": read.headers["etag"], "policy": "clinic", "as_of": TODAY.isoformat()}
    signed = clinician.post(f"/api/v1/episodes/{episode}/signatures", json=body)
    assert signed.status_code == 201
    assert signed.json()["stage"] == read.json()["stage"]
    assert len(signed.json()["sha256"]) == 64
    clinician.post(f"/api/v1/episodes/{episode}/records/medications", json={
        "recorded_on": TODAY.isoformat(), "data": {"anticoagulant": True}})
    stale = clinician.post(f"/api/v1/episodes/{episode}/signatures", json=body)
    assert stale.status_code == 409


def test_the_api_reference_is_served_without_outside_assets(world: World) -> None:
    page = world.client().get("/api/docs")
    assert page.status_code == 200
    assert "POST /api/v1/assess" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert world.client().get("/api/openapi.json").json()["info"]["title"] == "sijcare"


@pytest.mark.parametrize("path", [
    "/patients?page=999999999999999999999", "/api/v1/patients?page=999999999999999999999",
    "/patients?page=100001", "/patients/99999999999999999999", "/patients/2147483648",
    "/patients/-99999999999999999999", "/api/v1/patients/99999999999999999999",
    "/api/v1/episodes/99999999999999999999", "/episodes/99999999999999999999",
    "/api/v1/episodes/99999999999999999999/assessment",
    "/episodes/99999999999999999999/records/intake"])
def test_numbers_too_large_for_the_database_answer_422(clinician: TestClient,
                                                       path: str) -> None:
    assert clinician.get(path).status_code == 422


def test_the_largest_row_id_is_merely_absent(clinician: TestClient) -> None:
    assert clinician.get(f"/api/v1/patients/{2**31 - 1}").status_code == 404
    assert clinician.get("/patients?page=100000").status_code == 200


def test_registering_needs_a_clinic_of_ones_own(world: World) -> None:
    """Pages and API choose the clinic alike: none, several without a choice, or another's."""
    with world.sessions() as db:
        hashed = db.get(User, world.ids["staff"]).password_hash
        create_user(db, "unplaced", hashed, "staff", [])
        create_user(db, "both", hashed, "staff", [world.ids["north"], world.ids["south"]])
        db.commit()
    patient = {"family_name": "Nowhere", "given_name": "Nia", "birth_date": "1980-01-01",
               "sex": "female"}
    unplaced, both = world.signed_in("unplaced"), world.signed_in("both")
    answer = unplaced.post("/api/v1/patients", json=patient)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "clinic_id"]
    assert problem["msg"].startswith("you belong to no clinic")
    page = unplaced.post("/patients", data=patient)
    assert page.status_code == 422 and "you belong to no clinic" in page.text
    several = both.post("/api/v1/patients", json=patient)
    assert several.json()["detail"][0]["msg"] == "you work in several clinics: name one"
    page = both.post("/patients", data=patient)
    assert page.status_code == 422 and "you work in several clinics: name one" in page.text
    other = both.post("/api/v1/patients", json={**patient, "clinic_id": 10**6})
    assert other.json()["detail"][0]["msg"] == "not one of your clinics"
    chosen = both.post("/patients", data={**patient, "clinic_id": str(world.ids["south"])},
                       follow_redirects=False)
    assert chosen.status_code == 303
    assert both.get("/api/v1" + chosen.headers["location"]).json()["clinic_id"] == \
        world.ids["south"]


def test_an_unexpected_error_carries_the_security_headers(world: World) -> None:
    app = create_app(Settings(database_url="sqlite://", secret_key=b"test secret",
                              clock=world.clock), world.engine)

    def broken() -> None:
        raise RuntimeError("secret detail")

    app.add_api_route("/broken", broken)
    app.add_api_route("/api/v1/broken", broken)
    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/broken", "/api/v1/broken"):
        answer = client.get(path)
        assert answer.status_code == 500
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "secret detail" not in answer.text
    assert client.get("/api/v1/broken").json() == {"detail": "Internal server error."}


@pytest.mark.parametrize("kind", ["imaging", "block", "procedure", "prom", "care_course"])
def test_a_confirmed_none_is_voided_by_the_handle_its_answer_gives(clinician: TestClient,
                                                                   world: World,
                                                                   kind: str) -> None:
    """Found by schemathesis following the OpenAPI links: the answer named the kind sent
    with the id of the confirmed-none row, so voiding by it answered 404."""
    records = f"/api/v1/episodes/{world.ids['episode']}/records"
    added = clinician.post(f"{records}/{kind}", json={"recorded_on": TODAY.isoformat(),
                                                      "data": {"none": True}})
    assert added.status_code == 201 and added.json()["kind"] == "none"
    handle = added.json()
    voided = clinician.post(f"{records}/{handle['kind']}/{handle['id']}/void",
                            json={"reason": "entered on the wrong patient"})
    assert voided.status_code == 200, voided.text
    entry = next(e for e in clinician.get(records).json() if e["data"] == {"none": True}
                 and e["kind"] == kind and e["id"] == handle["id"])
    assert entry["voided_on"] == TODAY.isoformat()

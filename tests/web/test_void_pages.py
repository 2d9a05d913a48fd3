"""Marking a record "entered in error" from the episode page and the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, BlockRecord
from tests.web.conftest import TODAY, World

YESTERDAY = (TODAY - dt.timedelta(days=1)).isoformat()
BLOCK = {"date": "2026-03-01", "guidance": "fluoroscopy", "side": "left",
         "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 1}]}


def new_episode(clinician: TestClient, records: list[tuple[str, dict]]) -> tuple[int, list[int]]:
    patient = clinician.post("/api/v1/patients", json={
        "given_name": "Vera", "family_name": "Void", "birth_date": "1965-04-04",
        "sex": "female"}).json()
    episode = clinician.post(f"/api/v1/patients/{patient['id']}/episodes", json={
        "complaint": "Left SI-joint pain", "opened_on": "2026-01-01"}).json()["id"]
    ids = []
    for kind, data in records:
        answer = clinician.post(f"/api/v1/episodes/{episode}/records/{kind}",
                                json={"recorded_on": "2026-03-01", "data": data})
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return episode, ids


@pytest.fixture
def blocked(clinician: TestClient) -> tuple[int, int]:
    """An episode whose confirmed block makes it a candidate for treatment."""
    episode, ids = new_episode(clinician, [
        ("intake", {"pain_onset": "2025-10-01", "pain_nrs": 7, "side": "left",
                    "below_l5": True, "below_knee": False, "fortin_finger": True,
                    "red_flags": [], "generalized_pain_disorder": False}),
        ("care_course", {"type": "physical_therapy", "start": "2025-11-01", "end": "2026-02-01"}),
        ("exam", {"provocation": {"distraction": "positive", "thigh_thrust": "positive",
                                  "compression": "positive", "sacral_thrust": "negative"},
                  "neuro_deficit": False}),
        ("imaging", {"date": "2026-02-15", "modality": "mri", "region": "sij",
                     "excludes_other_causes": True}),
        ("block", BLOCK),
    ])
    return episode, ids[-1]


def stage(client: TestClient, episode: int, as_of: str | None = None) -> str:
    query = f"?as_of={as_of}" if as_of else ""
    return client.get(f"/api/v1/episodes/{episode}/assessment{query}").json()["stage"]


def block_entry(client: TestClient, episode: int) -> dict:
    return next(e for e in client.get(f"/api/v1/episodes/{episode}/records").json()
                if e["kind"] == "block")


def test_the_page_offers_each_record_a_void_form(clinician: TestClient,
                                                blocked: tuple[int, int]) -> None:
    episode, block = blocked
    page = clinician.get(f"/episodes/{episode}").text
    assert page.count("Mark as entered in error</button>") == 5
    form = re.search(rf'<form method="post" action="/episodes/{episode}/records/block/{block}'
                     r'/void"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'name="csrf_token"' in form.group(1)
    assert 'name="reason"' in form.group(1) and "required" in form.group(1)


def test_voiding_a_block_from_the_page(world: World, clinician: TestClient,
                                      blocked: tuple[int, int]) -> None:
    episode, block = blocked
    before, earlier = stage(clinician, episode), stage(clinician, episode, YESTERDAY)
    answer = clinician.post(f"/episodes/{episode}/records/block/{block}/void",
                            data={"reason": "diary of another patient"},
                            follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/episodes/{episode}#timeline"
    page = clinician.get(answer.headers["location"]).text
    assert "Record marked as entered in error." in page
    assert "(entered in error)" in page and "diary of another patient" in page
    assert page.count("Mark as entered in error</button>") == 4
    assert stage(clinician, episode) != before
    assert stage(clinician, episode, YESTERDAY) == earlier  # what was known then
    entry = block_entry(clinician, episode)
    assert (entry["voided_on"], entry["void_reason"]) == (TODAY.isoformat(),
                                                          "diary of another patient")
    with world.sessions() as db:
        last = db.scalars(select(AuditEvent).where(AuditEvent.action == "void")
                          .order_by(AuditEvent.seq.desc())).first()
        assert last is not None and (last.object_type, last.object_id) == ("block", str(block))
    again = clinician.post(f"/episodes/{episode}/records/block/{block}/void",
                           data={"reason": "twice"})
    assert again.status_code == 422 and "already marked entered in error" in again.text


def test_a_missing_reason_is_a_field_error_and_saves_nothing(clinician: TestClient,
                                                             blocked: tuple[int, int]) -> None:
    episode, block = blocked
    answer = clinician.post(f"/episodes/{episode}/records/block/{block}/void",
                            data={"reason": "  "})
    assert answer.status_code == 422
    error = re.search(rf'id="void-block-{block}-error"><span class="visually-hidden">Error:'
                      r"</span> ([^<]*)</p>", answer.text)
    assert error and "say why" in error.group(1)
    assert 'aria-invalid="true"' in answer.text
    assert block_entry(clinician, episode)["voided_on"] is None


def test_the_form_needs_its_csrf_token(world: World, blocked: tuple[int, int]) -> None:
    episode, block = blocked
    client = world.signed_in("clinician")
    del client.headers["x-csrf-token"]
    answer = client.post(f"/episodes/{episode}/records/block/{block}/void",
                         data={"reason": "typo"})
    assert answer.status_code == 403
    assert block_entry(world.signed_in("clinician"), episode)["voided_on"] is None


def test_voiding_through_the_api(world: World, clinician: TestClient) -> None:
    episode, (block,) = new_episode(clinician, [("block", BLOCK)])
    other, _ = new_episode(clinician, [])
    path = f"/api/v1/episodes/{episode}/records/block/{block}/void"
    missing = clinician.post(path, json={"reason": ""})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "reason"]
    wrong = clinician.post(f"/api/v1/episodes/{other}/records/block/{block}/void",
                           json={"reason": "typo"})
    assert wrong.status_code == 404
    assert clinician.post(f"/api/v1/episodes/{episode}/records/xray/{block}/void",
                          json={"reason": "typo"}).status_code == 422
    answer = clinician.post(path, json={"reason": "typo"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "block", "id": block, "voided_on": TODAY.isoformat(),
                             "void_reason": "typo"}
    twice = clinician.post(path, json={"reason": "again"})
    assert twice.status_code == 422 and "already" in twice.json()["detail"][0]["msg"]
    with world.sessions() as db:
        row = db.get(BlockRecord, block)
        assert row is not None and row.void_reason == "typo"
        assert row.voided_by == world.ids["clinician"]


@pytest.mark.parametrize(("user", "status"), [("south_clinician", 404), ("staff", 403),
                                              ("researcher", 403), ("admin", 403)])
def test_only_the_clinics_clinicians_may_void(world: World, clients: dict,
                                              clinician: TestClient, user: str,
                                              status: int) -> None:
    episode, (block,) = new_episode(clinician, [("block", BLOCK)])
    api = clients[user].post(f"/api/v1/episodes/{episode}/records/block/{block}/void",
                             json={"reason": "typo"})
    page = clients[user].post(f"/episodes/{episode}/records/block/{block}/void",
                              data={"reason": "typo"}, follow_redirects=False)
    assert (api.status_code, page.status_code) == (status, status)
    assert block_entry(clinician, episode)["voided_on"] is None


def test_a_confirmed_none_can_be_voided(clinician: TestClient) -> None:
    episode, (none,) = new_episode(clinician, [("imaging", {"none": True})])
    page = clinician.get(f"/episodes/{episode}").text
    assert f"/episodes/{episode}/records/none/{none}/void" in page
    answer = clinician.post(f"/episodes/{episode}/records/none/{none}/void",
                            data={"reason": "imaging was done"}, follow_redirects=False)
    assert answer.status_code == 303
    entries = clinician.get(f"/api/v1/episodes/{episode}/records").json()
    assert entries[0]["summary"] == "None recorded: imaging (entered in error)"

"""Around the first visit: registering (no future births), finding the patient again by date
of birth, correcting demographics, the payer's policy, notes, closing an episode, the timeline
of a past day, and a signature opened as it was signed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, Patient, PatientCorrection, set_time_zone
from tests.web.conftest import TODAY, World
from tests.web.test_forms import error_of

DAY = TODAY.isoformat()


@pytest.fixture(scope="module")
def patient(clinician: TestClient) -> dict:
    return clinician.post("/api/v1/patients", json={
        "given_name": "Corra", "family_name": "Rection", "birth_date": "1980-03-04",
        "sex": "female", "external_id": "CR-77"}).json()


def register(client: TestClient, **changes: str):
    form = {"family_name": "Future", "given_name": "Fay", "birth_date": "1990-01-01",
            "sex": "female", **changes}
    return client.post("/patients", data=form, follow_redirects=False)


def test_a_birth_in_the_future_is_refused(clinician: TestClient) -> None:
    later = (TODAY + timedelta(days=1)).isoformat()
    answer = register(clinician, birth_date=later, family_name="")
    assert answer.status_code == 422
    assert "is in the future" in error_of(answer.text, "birth_date")
    assert error_of(answer.text, "family_name") == "is required"  # together, at once
    assert register(clinician, birth_date="1850-01-01").status_code == 422
    assert register(clinician, birth_date=DAY, family_name="Newborn").status_code == 303


@pytest.mark.parametrize("query", ["1980-03-04", "4.3.1980", "04/03/1980", "cr-77", "rection"])
def test_the_patient_list_finds_by_birth_date_name_or_record_number(
        clinician: TestClient, patient: dict, query: str) -> None:
    page = clinician.get("/patients", params={"q": query}).text
    assert f"/patients/{patient['id']}" in page
    assert "Rection" in page


def test_a_date_matches_only_that_birth_date(clinician: TestClient, patient: dict) -> None:
    page = clinician.get("/patients", params={"q": "1980-03-05"}).text
    assert f"/patients/{patient['id']}\"" not in page


def test_demographics_are_corrected_with_the_old_value_kept(
        world: World, clinician: TestClient, patient: dict) -> None:
    url = f"/patients/{patient['id']}/edit"
    form = clinician.get(url).text
    assert 'value="1980-03-04"' in form and 'value="CR-77"' in form
    sent = {"family_name": "Rection", "given_name": "Cora", "birth_date": "1980-04-03",
            "sex": "female", "external_id": "CR-77", "payer": "clinic"}
    refused = clinician.post(url, data={**sent, "birth_date": "2999-01-01"},
                             follow_redirects=False)
    assert refused.status_code == 422
    assert "is in the future" in error_of(refused.text, "birth_date")
    assert "say why" in error_of(refused.text, "reason")
    done = clinician.post(url, data={**sent, "reason": "Typed day and month swapped"},
                          follow_redirects=False)
    assert done.status_code == 303
    with world.sessions() as db:
        stored = db.get(Patient, patient["id"])
        assert (stored.given_name, stored.birth_date.isoformat()) == ("Cora", "1980-04-03")
        kept = {c.field: (c.old_value, c.new_value) for c in db.scalars(
            select(PatientCorrection).where(PatientCorrection.patient_id == patient["id"]))}
        assert kept == {"given_name": ("Corra", "Cora"),
                        "birth_date": ("1980-03-04", "1980-04-03"), "payer": (None, "clinic")}
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "correct")).all()[-1]
        assert event.object_id == str(patient["id"])
        assert sorted(event.detail["fields"]) == ["birth_date", "given_name", "payer"]
    page = clinician.get(f"/patients/{patient['id']}").text
    assert "was 1980-03-04, now 1980-04-03" in page
    assert "<dt>Payer</dt><dd>Clinic profile" in page


def test_the_payer_selects_the_default_policy(clinician: TestClient) -> None:
    insured = clinician.post("/api/v1/patients", json={
        "given_name": "Paya", "family_name": "Clinic", "birth_date": "1975-05-06",
        "sex": "female", "payer": "clinic"}).json()
    episode = clinician.post(f"/api/v1/patients/{insured['id']}/episodes", json={
        "complaint": "Left buttock pain", "opened_on": DAY}).json()["id"]
    page = clinician.get(f"/episodes/{episode}").text
    assert re.search(r'<option value="clinic" selected>', page)
    chosen = clinician.get(f"/episodes/{episode}", params={"policy": "medicare"}).text
    assert re.search(r'<option value="medicare" selected>', chosen)


def test_notes_are_escaped_audited_and_signed_by_their_author(
        world: World, clinician: TestClient) -> None:
    episode = world.ids["episode"]
    empty = clinician.post(f"/episodes/{episode}/notes", data={"text": "  "},
                           follow_redirects=False)
    assert empty.status_code == 422 and "empty" in empty.text
    sent = clinician.post(f"/episodes/{episode}/notes",
                          data={"text": "Patient asks <script>alert(1)</script> about RFA"},
                          follow_redirects=False)
    assert sent.status_code == 303
    page = clinician.get(f"/episodes/{episode}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert re.search(r"By clinician, entered \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)
    with world.sessions() as db:
        assert db.scalars(select(AuditEvent).where(AuditEvent.object_type == "note")).all()


def test_times_follow_the_clinic_time_zone(world: World, clinician: TestClient) -> None:
    with world.sessions() as db:
        set_time_zone(db, world.ids["north"], "Asia/Tokyo", world.ids["admin"])
        db.commit()
    try:
        page = clinician.get(f"/episodes/{world.ids['episode']}").text
        assert re.search(r"entered \d{4}-\d\d-\d\d \d\d:\d\d JST", page)
        assert re.search(r"signed by clinician on \d{4}-\d\d-\d\d \d\d:\d\d JST", page)
    finally:
        with world.sessions() as db:
            set_time_zone(db, world.ids["north"], "UTC", world.ids["admin"])
            db.commit()


def test_a_past_day_has_a_banner_and_greys_later_entries(world: World,
                                                         clinician: TestClient) -> None:
    episode = world.ids["episode"]
    today = clinician.get(f"/episodes/{episode}").text
    assert "as-of-banner" not in today and 'class="later"' not in today
    past = clinician.get(f"/episodes/{episode}",
                         params={"as_of": (TODAY - timedelta(days=1)).isoformat()}).text
    assert "Viewing the record as of" in past
    assert past.count('class="later"') >= 1  # the intake was recorded today
    assert "Recorded after" in past


def test_a_signature_opens_as_it_was_signed(world: World, clinician: TestClient,
                                            clients: dict) -> None:
    url = f"/episodes/{world.ids['episode']}/signed/{world.ids['signed']}"
    page = clinician.get(url).text
    assert "As signed" in page and "by clinician" in page
    assert "The stored copy matches its seal" in page
    assert f'href="{url}"' in clinician.get(f"/episodes/{world.ids['episode']}").text
    assert clinician.get(f"/episodes/{world.ids['episode']}/signed/999999").status_code == 404
    assert clients["south_clinician"].get(url).status_code == 404


def test_an_episode_closes_and_reopens(world: World, clinician: TestClient,
                                       patient: dict) -> None:
    episode = clinician.post(f"/api/v1/patients/{patient['id']}/episodes", json={
        "complaint": "Right buttock pain", "opened_on": DAY}).json()["id"]
    early = clinician.post(f"/episodes/{episode}/close",
                           data={"closed_on": (TODAY - timedelta(days=3)).isoformat()},
                           follow_redirects=False)
    assert early.status_code == 422 and "before the episode opened" in early.text
    assert clinician.post(f"/episodes/{episode}/close", data={"closed_on": DAY},
                          follow_redirects=False).status_code == 303
    page = clinician.get(f"/patients/{patient['id']}").text
    assert f"closed {DAY}" in page and f'action="/episodes/{episode}/reopen"' in page
    assert clinician.post(f"/episodes/{episode}/reopen",
                          follow_redirects=False).status_code == 303
    assert f'action="/episodes/{episode}/close"' in clinician.get(
        f"/patients/{patient['id']}").text
    with world.sessions() as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "episode", AuditEvent.object_id == str(episode)))]
    assert "close" in actions and "reopen" in actions

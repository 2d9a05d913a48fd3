"""The clinical banner on every clinical page, the header search, recent patients and the
medication list and allergies in words beside the coded ones."""

from __future__ import annotations

import itertools
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, Patient
from tests.web.conftest import TODAY, World
from tests.web.test_forms import error_of

DAY = TODAY.isoformat()
NUMBERS = itertools.count(77)


def banner_of(page: str) -> str:
    found = re.search(r'<section class="clinical-banner".*?</section>', page, re.S)
    assert found, "no clinical banner on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0)))


def recorded_patient(client: TestClient, number: str | None = None) -> tuple[int, int]:
    patient = client.post("/api/v1/patients", json={
        "given_name": "Bea", "family_name": "Banner", "birth_date": "1980-06-15",
        "sex": "female", "external_id": number or f"B-{next(NUMBERS)}"}).json()["id"]
    episode = client.post(f"/api/v1/patients/{patient}/episodes", json={
        "complaint": "Left buttock pain", "opened_on": DAY}).json()["id"]
    for kind, data in (("medications", {"anticoagulant": True, "allergies": ["latex"]}),
                       ("intake", {"pain_nrs": 7, "side": "left", "pregnant": False})):
        answer = client.post(f"/api/v1/episodes/{episode}/records/{kind}",
                             json={"recorded_on": DAY, "data": data})
        assert answer.status_code == 201, answer.text
    return patient, episode


def test_every_clinical_page_carries_the_banner(clinician: TestClient, world: World) -> None:
    patient, episode = recorded_patient(clinician)
    age = TODAY.year - 1980 - ((TODAY.month, TODAY.day) < (6, 15))
    for path in (f"/patients/{patient}", f"/episodes/{episode}", f"/episodes/{episode}/note",
                 f"/episodes/{episode}/records/exam", f"/patients/{patient}/documents"):
        shown = banner_of(clinician.get(path).text)
        assert "Banner, Bea" in shown and f"{age} years" in shown, path
        assert "Allergies: Latex" in shown, (path, shown)
        assert "Anticoagulant: yes" in shown and "Pregnant: no" in shown, path
        assert "Stage:" in shown and "not assessed" not in shown, path
    page = clinician.get(f"/episodes/{world.ids['episode']}/signed/{world.ids['signed']}")
    assert "North, Ada" in banner_of(page.text)


def test_staff_see_who_but_not_the_clinical_facts(clinician: TestClient,
                                                  staff: TestClient) -> None:
    patient, _ = recorded_patient(clinician)
    shown = banner_of(staff.get(f"/patients/{patient}").text)
    assert "Banner, Bea" in shown and "Anticoagulant" not in shown


def test_the_header_searches_and_recent_patients_are_each_users_own(
        clinician: TestClient, staff: TestClient, world: World) -> None:
    patient, _ = recorded_patient(clinician, "S-1")
    page = clinician.get("/patients").text
    assert 'role="search"' in page and 'action="/patients"' in page
    for query in ("S-1", "1980-06-15", "Banner"):
        assert f'href="/patients/{patient}"' in clinician.get("/patients",
                                                              params={"q": query}).text
    clinician.get(f"/patients/{patient}")
    clinician.get(f"/episodes/{world.ids['episode']}")
    recent = clinician.get("/recent").text
    assert recent.index(f'href="/patients/{world.ids["patient"]}"') < recent.index(
        f'href="/patients/{patient}"')  # the last opened first
    fresh = world.signed_in("south_clinician").get("/recent").text
    assert "You have not opened a patient yet" in fresh


def test_the_medication_list_and_allergies_in_words(clinician: TestClient,
                                                    world: World) -> None:
    patient, _ = recorded_patient(clinician)
    too_long = clinician.post(f"/patients/{patient}/medication-list", data={
        "medication_list": "x" * 2001, "allergy_notes": "y" * 501})
    assert too_long.status_code == 422
    assert error_of(too_long.text, "medication_list") == "needs at most 2000 characters"
    assert error_of(too_long.text, "allergy_notes") == "needs at most 500 characters"
    saved = clinician.post(f"/patients/{patient}/medication-list", data={
        "medication_list": "apixaban 5 mg twice daily", "allergy_notes": "penicillin: rash"},
        follow_redirects=False)
    assert saved.status_code == 303
    shown = banner_of(clinician.get(f"/patients/{patient}").text)
    assert "Latex; penicillin: rash" in shown and "apixaban 5 mg twice daily" in shown
    with world.sessions() as db:
        assert db.get(Patient, patient).medication_words.allergy_notes == "penicillin: rash"
        changed = db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "patient", AuditEvent.object_id == str(patient),
            AuditEvent.action == "update")).all()
    assert changed[-1].detail["after"]["medication_list"] == "apixaban 5 mg twice daily"

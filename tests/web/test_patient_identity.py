"""Patients are registered once: contact details with validation, and a possible duplicate
(same date of birth and a close name, or the same clinic number) is shown before saving, at
registration and from an appointment request, whose email and phone the patient keeps."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sijcare.store import Patient
from sijcare.store.appointments import create_request
from tests.web.conftest import World
from tests.web.test_forms import error_of

ADA = {"family_name": "Nort", "given_name": "Ada", "birth_date": "1970-02-03",
       "sex": "female"}  # the world's Ada North, with a typo


def patients(world: World) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count()).select_from(Patient))


def test_contact_details_are_checked_with_the_rest(clinician: TestClient) -> None:
    answer = clinician.post("/patients", data={
        "family_name": "Lovelace", "given_name": "", "birth_date": "1815-12-10",
        "sex": "female", "phone": "call me", "email": "ada.example.org"})
    assert answer.status_code == 422
    assert error_of(answer.text, "phone").startswith("use digits")
    assert error_of(answer.text, "email").startswith("is not an email address")
    assert error_of(answer.text, "given_name")  # all at once


def test_a_close_name_with_the_same_birth_date_is_shown_before_saving(
        world: World, clinician: TestClient) -> None:
    before = patients(world)
    answer = clinician.post("/patients", data={**ADA, "phone": "+41 79 123 45 67"})
    assert answer.status_code == 200 and patients(world) == before  # nothing registered
    assert "Is this a patient already registered?" in answer.text
    assert f'href="/patients/{world.ids["patient"]}">North, Ada</a>' in answer.text
    assert 'value="+41 79 123 45 67"' in answer.text  # what was typed stays
    assert "Register anyway" in answer.text
    other = clinician.post("/patients", data={**ADA, "given_name": "Bea"},  # a sister
                           follow_redirects=False)
    assert other.status_code == 303
    anyway = clinician.post("/patients", data={**ADA, "phone": "+41 79 123 45 67",
                                               "new_patient": "confirmed"},
                            follow_redirects=False)
    assert anyway.status_code == 303 and patients(world) == before + 2
    page = clinician.get(anyway.headers["location"]).text
    assert "+41 79 123 45 67" in page


def test_the_same_clinic_number_is_a_possible_duplicate(world: World,
                                                       clinician: TestClient) -> None:
    answer = clinician.post("/patients", data={
        "family_name": "Someone", "given_name": "Else", "birth_date": "1990-01-01",
        "sex": "male", "external_id": "N-1"})
    assert "Is this a patient already registered?" in answer.text
    assert "clinic number N-1" in answer.text


def test_a_request_keeps_its_email_and_phone_and_warns_of_a_duplicate(
        world: World, clinician: TestClient) -> None:
    with world.sessions() as db:
        item = create_request(db, world.ids["north"], {
            "given_name": "Ada", "family_name": "North", "birth_date": "1970-02-03",
            "email": "ada@example.org", "phone": "555 0199", "consent": True})
        db.commit()
        item_id = item.id
    form = {"sex": "female", "complaint": "Left buttock pain", "opened_on": "2026-12-01"}
    warned = clinician.post(f"/inbox/{item_id}/register", data=form)
    assert "Is this a patient already registered?" in warned.text
    assert "Register anyway and open episode" in warned.text
    done = clinician.post(f"/inbox/{item_id}/register",
                          data={**form, "new_patient": "confirmed"}, follow_redirects=False)
    assert done.status_code == 303
    with world.sessions() as db:
        patient = db.get(Patient, int(done.headers["location"].rsplit("/", 1)[1]))
        assert (patient.email, patient.phone) == ("ada@example.org", "555 0199")

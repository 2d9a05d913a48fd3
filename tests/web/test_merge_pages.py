"""Merging two records of one person from the patient page, and an admin's unmerge
(issue 22, item 2)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import add_record, create_episode, create_patient
from sijcare.store.models import AuditEvent, Episode, MedicationWords, Patient
from tests.web.conftest import TODAY, World
from tests.web.test_banner import banner_of


def _registered_twice(world: World) -> tuple[int, int]:
    with world.sessions() as db:
        first = create_patient(db, world.ids["north"], {
            "given_name": "Bea", "family_name": "Twice", "birth_date": "1961-01-01",
            "sex": "female", "phone": "555 0111"}, world.ids["clinician"])
        second = create_patient(db, world.ids["north"], {
            "given_name": "Bea", "family_name": "Twyce", "birth_date": "1961-01-01",
            "sex": "female"}, world.ids["clinician"])
        episode = create_episode(db, second.id, {"complaint": "Right SI-joint pain",
                                                 "opened_on": TODAY.isoformat()},
                                 world.ids["clinician"])
        add_record(db, episode.id, "intake", {"pain_nrs": 7}, world.ids["clinician"], TODAY)
        db.commit()
        return first.id, second.id


def test_a_clinician_merges_from_the_patient_page_and_an_admin_undoes_it(
        world: World, clinician: TestClient) -> None:
    kept, twin = _registered_twice(world)
    page = clinician.get(f"/patients/{kept}").text
    assert "Possibly the same person" in page
    assert f'href="/patients/{twin}/merge?into={kept}"' in page
    confirm = clinician.get(f"/patients/{twin}/merge?into={kept}")
    assert confirm.status_code == 200
    assert f"Record #{twin}: merged away" in confirm.text and "1 episode with" in confirm.text

    refused = clinician.post(f"/patients/{twin}/merge", data={"into": str(kept), "reason": ""})
    assert refused.status_code == 422
    assert "say why the two records are one person" in refused.text
    done = clinician.post(f"/patients/{twin}/merge",
                          data={"into": str(kept), "reason": "registered twice"},
                          follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/patients/{kept}"
    survivor = clinician.get(f"/patients/{kept}").text
    assert "Records merged" in survivor and f"record #{twin} on" in survivor
    assert "Right SI-joint pain" in survivor
    merged_page = clinician.get(f"/patients/{twin}").text
    assert "This record was merged into" in merged_page and "Open an episode" not in merged_page
    listed = clinician.get("/patients", params={"q": "Bea"}).text
    assert f"/patients/{kept}" in listed and f"/patients/{twin}\"" not in listed
    with world.sessions() as db:
        assert db.get(Patient, twin).merged_into_id == kept
        merge_event = db.scalar(select(AuditEvent).where(AuditEvent.action == "merge"))
        assert merge_event.detail["into"] == kept

    admin = world.signed_in("admin")
    listing = admin.get("/admin/merges").text
    assert f"#{twin} into #{kept}" in listing and "registered twice" in listing
    assert "Bea" not in listing  # the admin reads no patient data
    merge_id = int(re.search(r'action="/admin/merges/(\d+)/unmerge"', listing).group(1))
    undone = admin.post(f"/admin/merges/{merge_id}/unmerge", data={"reason": "not the same"},
                        follow_redirects=False)
    assert undone.status_code == 303
    with world.sessions() as db:
        assert db.get(Patient, twin).merged_into_id is None
        assert [e.patient_id for e in db.scalars(select(Episode).where(
            Episode.complaint == "Right SI-joint pain"))] == [twin]
    assert "Undone" in admin.get("/admin/merges").text
    assert "Records merged" not in clinician.get(f"/patients/{twin}").text


def test_staff_and_other_clinics_cannot_merge(world: World, staff: TestClient) -> None:
    kept, twin = _registered_twice(world)
    assert staff.get(f"/patients/{twin}/merge?into={kept}").status_code == 403
    south = world.signed_in("south_clinician")
    assert south.get(f"/patients/{twin}/merge?into={kept}").status_code == 404
    assert "merge into this record" not in staff.get(f"/patients/{kept}").text


def test_the_surviving_record_shows_the_medications_of_both(
        world: World, clinician: TestClient) -> None:
    kept, twin = _registered_twice(world)
    for patient, medications, allergies in ((kept, "apixaban 5 mg twice daily", ""),
                                            (twin, "paracetamol as needed", "penicillin: rash")):
        saved = clinician.post(f"/patients/{patient}/medication-list", data={
            "medication_list": medications, "allergy_notes": allergies}, follow_redirects=False)
        assert saved.status_code == 303
    done = clinician.post(f"/patients/{twin}/merge",
                          data={"into": str(kept), "reason": "registered twice"},
                          follow_redirects=False)
    assert done.status_code == 303
    shown = banner_of(clinician.get(f"/patients/{kept}").text)
    assert "apixaban 5 mg twice daily; paracetamol as needed" in shown
    assert "penicillin: rash" in shown
    with world.sessions() as db:
        assert db.get(MedicationWords, twin) is None

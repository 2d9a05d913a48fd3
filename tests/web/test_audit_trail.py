"""Every sign-in and every read or write of patient data leaves an entry in the audit chain."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, verify_chain
from tests.web.conftest import PASSWORD, TODAY, World


def events_after(world: World, seq: int) -> list[AuditEvent]:
    with world.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.seq > seq)
                               .order_by(AuditEvent.seq)))


def head(world: World) -> int:
    with world.sessions() as db:
        return db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())) or 0


def test_sign_ins_are_audited_whether_they_succeed_or_not(world: World) -> None:
    start = head(world)
    client = world.client()
    token = client.get("/api/v1/session").json()["csrf_token"]
    for password in ("wrong", PASSWORD):
        client.post("/api/v1/session", json={"username": "clinician", "password": password},
                    headers={"x-csrf-token": token})
    failed, succeeded = events_after(world, start)
    assert (failed.action, failed.detail["outcome"]) == ("sign_in", "failed")
    assert failed.actor_id == world.ids["clinician"]
    assert failed.detail["address"] == "testclient"
    assert (succeeded.action, succeeded.detail["outcome"]) == ("sign_in", "signed_in")
    assert succeeded.object_id == str(world.ids["clinician"])


def test_reading_a_patient_page_is_audited(world: World, clinician: TestClient) -> None:
    start = head(world)
    assert clinician.get(f"/patients/{world.ids['patient']}").status_code == 200
    (event,) = events_after(world, start)
    assert (event.action, event.object_type, event.object_id) == (
        "read", "patient", str(world.ids["patient"]))
    assert event.clinic_id == world.ids["north"]
    assert event.detail == {"route": "patients.view"}


def test_the_patient_list_records_who_was_shown(world: World, clinician: TestClient) -> None:
    start = head(world)
    clinician.get("/api/v1/patients", params={"q": "north"})
    (event,) = events_after(world, start)
    assert event.object_type == "patient_list"
    assert event.detail["query"] == "north"
    assert event.detail["shown"] == [world.ids["patient"]]


def test_a_write_is_audited_with_what_it_created(world: World, clinician: TestClient) -> None:
    start = head(world)
    answer = clinician.post(f"/api/v1/episodes/{world.ids['episode']}/records/medications",
                            json={"recorded_on": TODAY.isoformat(),
                                  "data": {"anticoagulant": False}})
    events = events_after(world, start)
    assert [(e.action, e.object_type) for e in events] == [
        ("create", "medications"), ("write", "episode")]
    assert events[1].detail["record_id"] == answer.json()["id"]


def test_refused_requests_are_audited_and_their_writes_undone(world: World) -> None:
    south = world.signed_in("south_clinician")
    start = head(world)
    answer = south.post(f"/api/v1/episodes/{world.ids['episode']}/records/medications",
                        json={"recorded_on": TODAY.isoformat(),
                              "data": {"anticoagulant": True}})
    assert answer.status_code == 404
    (event,) = events_after(world, start)
    assert (event.action, event.actor_id) == ("write", world.ids["south_clinician"])
    assert event.detail["outcome"] == "refused" and event.detail["status"] == 404


def test_the_chain_stays_intact(world: World) -> None:
    with world.sessions() as db:
        report = verify_chain(db)
    assert report.ok, report.problems
    assert report.entries > 5

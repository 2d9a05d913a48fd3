"""The clinic's FHIR upload page and review screen (issue 23): the demo's export imported from
the browser's form with its summary and CSV, a bad file refused whole, a patient matched by
name and birth date confirmed as the command's `--same` does, and an imported fact reviewed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sijcare.interop.fhir.export import bulk_export
from sijcare.store import AuditEvent, Patient, load_demo, make_engine, upgrade
from sijcare.store.models import ImportedRecord
from tests.web.conftest import World, build_world


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    """The demo clinic exported as Bulk Data NDJSON, as a hospital would send it."""
    directory = tmp_path_factory.mktemp("demo")
    engine = make_engine(f"sqlite:///{directory / 'demo.db'}")
    upgrade(engine)
    with Session(engine) as session:
        load_demo(session)
        session.commit()
        bulk_export(session, directory / "out")
    engine.dispose()
    return [(p.name, p.read_bytes()) for p in sorted((directory / "out").glob("*.ndjson"))]


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    built = build_world(tmp_path)
    yield built
    built.engine.dispose()


def _upload(client: TestClient, files: list[tuple[str, bytes]]):
    return client.post("/imports/fhir", files=[("files", (name, data, "application/fhir+json"))
                                               for name, data in files])


def _count(world: World, column) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count(column)))


def test_the_demo_export_uploads_with_a_summary_and_a_csv(world: World, demo_files) -> None:
    client = world.signed_in("clinician")
    answer = _upload(client, demo_files)
    assert answer.status_code == 200, answer.text[:500]
    assert "Patients new</th><td>8" in answer.text
    imported = _count(world, ImportedRecord.id)
    assert imported > 8 and f'id="records-imported">{imported - 8}' in answer.text  # episodes
    token = answer.text.split("report.csv?upload=")[1].split('"')[0]
    report = client.get(f"/imports/fhir/report.csv?upload={token}")
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert rows and all(r["reason"] and r["reason"] in answer.text for r in rows)
    with world.sessions() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "import",
                                                    AuditEvent.object_type == "fhir")).one()
    assert event.actor_id == world.ids["clinician"] and event.clinic_id == world.ids["north"]
    assert event.detail["via"] == "clinic upload page"
    assert event.detail["files"] == [name for name, _ in demo_files]
    assert event.detail["patients"] == 8
    # the CSV is the uploader's alone
    other = world.signed_in("south_clinician").get(f"/imports/fhir/report.csv?upload={token}")
    assert other.status_code == 404


def test_a_bad_file_is_refused_whole(world: World, demo_files) -> None:
    client = world.signed_in("clinician")
    answer = _upload(client, [*demo_files, ("broken.ndjson", b'{"resourceType": \n')])
    assert answer.status_code == 422
    assert "broken.ndjson: line 1 is not valid JSON" in answer.text
    assert _count(world, Patient.id) == 1 and _count(world, ImportedRecord.id) == 0
    alone = _upload(client, [f for f in demo_files if f[0] == "AllergyIntolerance.ndjson"])
    assert alone.status_code == 422 and "which the file does not hold" in alone.text
    wrong = _upload(client, [("notes.txt", b"hello")])
    assert wrong.status_code == 422 and "notes.txt: not a .json Bundle" in wrong.text


def test_an_upload_may_be_larger_than_other_requests(world: World, demo_files) -> None:
    """The upload has its own limit (20 MB by default); elsewhere 1 MB still holds."""
    client = world.signed_in("clinician")
    patients = dict(demo_files)["Patient.ndjson"] + b"\n" * (1024 * 1024)
    assert _upload(client, [("Patient.ndjson", patients)]).status_code == 200
    assert client.post("/patients", content=b"x" * (1024 * 1024 + 1)).status_code == 413


def _ada(mrn: str) -> dict:
    """Ada North of the test world as another hospital knows her, with a steroid allergy."""
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:p1", "resource": {
            "resourceType": "Patient", "identifier": [
                {"system": "https://hospital.example/mrn", "value": mrn,
                 "type": {"coding": [{"code": "MR"}]}}],
            "name": [{"family": "North", "given": ["Ada"]}], "gender": "female",
            "birthDate": "1970-02-03"}},
        {"fullUrl": "urn:uuid:a1", "resource": {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"coding": [{"system": "https://sijcare.org/fhir/CodeSystem/sijcare",
                                 "code": "corticosteroid"}]},
            "patient": {"reference": "urn:uuid:p1"}, "recordedDate": "2026-01-10"}}]}


def test_a_name_and_birth_match_is_confirmed_then_reviewed(world: World) -> None:
    client = world.signed_in("clinician")
    answer = _upload(client, [("ada.json", json.dumps(_ada("H-77")).encode())])
    assert "Confirm these patients" in answer.text
    assert f'value="{world.ids["patient"]}"' in answer.text
    assert _count(world, ImportedRecord.id) == 0  # nothing until confirmed
    token = answer.text.split('name="upload" value="')[1].split('"')[0]
    source = answer.text.split('name="source-1" value="')[1].split('"')[0]
    confirmed = client.post("/imports/fhir/confirm", data={
        "upload": token, "source-1": source.replace("&#124;", "|"),
        "choice-1": str(world.ids["patient"])})
    assert confirmed.status_code == 200, confirmed.text[:300]
    assert "Patients matched</th><td>1" in confirmed.text
    assert _count(world, Patient.id) == 1
    episode = world.ids["episode"]
    page = client.get(f"/episodes/{episode}")
    assert "Imported, not reviewed (1)" in page.text
    assert "counts already for the safety stops (allergy:corticosteroid)" in page.text
    review = client.get(f"/episodes/{episode}/review")
    assert "Counts already for the safety stops: allergy:corticosteroid" in review.text
    with world.sessions() as db:
        imported = db.scalars(select(ImportedRecord).where(
            ImportedRecord.kind == "medications")).one()
    # another clinic's clinician cannot review it, nor staff
    for user in ("south_clinician", "staff"):
        refused = world.signed_in(user).post(f"/episodes/{episode}/review", data={
            "imported_id": str(imported.id), "decision": "accept"})
        assert refused.status_code in (403, 404)
    accepted = client.post(f"/episodes/{episode}/review", data={
        "imported_id": str(imported.id), "decision": "accept"}, follow_redirects=True)
    assert "Imported record accepted" in accepted.text
    assert "Every imported record of this episode has been reviewed" in accepted.text
    again = client.post(f"/episodes/{episode}/review", data={
        "imported_id": str(imported.id), "decision": "reject"}, follow_redirects=True)
    assert "Nothing was changed: this imported record was accepted already" in again.text
    assert "Imported, not reviewed" not in client.get(f"/episodes/{episode}").text
    with world.sessions() as db:
        assert db.get(ImportedRecord, imported.id).review == "accepted"

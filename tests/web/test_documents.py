"""Documents on a patient: PDF and images only, by their content; size-limited; kept
privately beside the database; audited; shown only to the patient's clinicians; carried by
backups and restored."""

from __future__ import annotations

import hashlib
import stat

from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, backup, restore
from sijcare.store.documents import MAX_BYTES, documents_dir
from sijcare.store.models import PatientDocument
from tests.web.conftest import World

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(client: TestClient, patient: int, title: str, name: str, content: bytes):
    return client.post(f"/patients/{patient}/documents", data={"title": title},
                       files={"file": (name, content, "application/octet-stream")},
                       follow_redirects=False)


def test_a_pdf_is_kept_privately_and_served_to_the_patients_clinicians(
        clinician: TestClient, clients: dict[str, TestClient], world: World) -> None:
    patient = world.ids["patient"]
    assert upload(clinician, patient, "MRI report 2026-03", "C:\\scans\\mri.pdf",
                  PDF).status_code == 303
    listed = clinician.get(f"/patients/{patient}/documents").text
    assert "MRI report 2026-03" in listed and "mri.pdf" in listed and "scans" not in listed
    with world.sessions() as db:
        document = db.scalars(select(PatientDocument).where(
            PatientDocument.patient_id == patient)).first()
        uploaded = db.scalars(select(AuditEvent).where(AuditEvent.action == "upload")).all()
    assert document.media_type == "application/pdf"
    assert uploaded[-1].detail["sha256"] == hashlib.sha256(PDF).hexdigest()
    directory = documents_dir(str(world.engine.url))
    stored = directory / document.sha256[:2] / document.sha256
    assert stored.read_bytes() == PDF
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    path = f"/patients/{patient}/documents/{document.id}"
    shown = clinician.get(path)
    assert shown.content == PDF and shown.headers["content-type"] == "application/pdf"
    assert shown.headers["x-content-type-options"] == "nosniff"
    for outsider in ("south_clinician", "researcher", "admin", "staff"):
        refused = clients[outsider].get(path)
        assert refused.status_code in (403, 404) and refused.content != PDF, outsider
    assert clinician.get(f"/patients/{patient}/documents/{document.id + 999}").status_code == 404


def test_type_is_read_from_the_content_and_every_problem_is_shown(
        clinician: TestClient, world: World) -> None:
    patient = world.ids["patient"]
    with world.sessions() as db:
        before = len(db.scalars(select(PatientDocument)).all())
    disguised = upload(clinician, patient, "", "report.pdf", b"MZ\x90\x00 an executable")
    assert disguised.status_code == 422
    assert "is not a PDF, PNG or JPEG file (read from its content)" in disguised.text
    assert "give the document a title" in disguised.text  # both problems at once
    renamed = upload(clinician, patient, "Scan", "scan.pdf", PNG)
    assert renamed.status_code == 422 and "does not match its content" in renamed.text
    too_big = upload(clinician, patient, "Huge", "huge.pdf", PDF + b"0" * MAX_BYTES)
    assert too_big.status_code in (413, 422)
    assert upload(clinician, patient, "X-ray", "xray.png", PNG).status_code == 303
    with world.sessions() as db:
        assert len(db.scalars(select(PatientDocument)).all()) == before + 1


def test_backups_carry_the_files_and_restore_puts_them_back(
        clinician: TestClient, world: World, tmp_path) -> None:
    patient = world.ids["patient"]
    content = PDF + b"% referral letter\n"
    upload(clinician, patient, "Referral letter", "referral.pdf", content)
    url = world.engine.url.render_as_string(hide_password=False)
    saved = backup(url, tmp_path / "backup.db")
    target = f"sqlite:///{tmp_path / 'restored' / 'clinic.db'}"
    restore(saved, target)
    restored = documents_dir(target) / hashlib.sha256(content).hexdigest()[:2] \
        / hashlib.sha256(content).hexdigest()
    assert restored.read_bytes() == content

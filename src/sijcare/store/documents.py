"""Documents on a patient (imaging reports, referral letters): PDFs and images.

The type is read from the file's first bytes, never taken from its name or the browser's
word for it; only PDF, PNG and JPEG are kept, up to `MAX_BYTES`. The bytes are written once
under their sha256 in a directory beside the database (its private data directory: 0700,
files 0600, never under the web root) and read back only through the patient's page, which
checks the hash again. Each upload is audited; backups carry the files (`pack`/`unpack`).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from pathlib import Path

from sqlalchemy import make_url, select
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.db import data_dir, private_directory
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import Patient, PatientDocument, utcnow
from sijcare.store.users import require_member

MAX_BYTES = 10 * 1024 * 1024
# media type -> (its first bytes, the file name endings that may carry it)
TYPES = {
    "application/pdf": (b"%PDF-", (".pdf",)),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
}
BACKUP_TABLE = "document_files"  # in backup files only: sha256 -> the bytes


def documents_dir(url: str) -> Path:
    """Where the documents of the database at `url` live: beside a SQLite file, else in the
    private data directory; created private (0700)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return private_directory(Path(parsed.database).expanduser().resolve().parent
                                 / "sijcare-documents")
    return private_directory(data_dir() / "documents")


def media_type(content: bytes) -> str | None:
    """The document's type by its first bytes (None: not a PDF, PNG or JPEG)."""
    return next((kind for kind, (magic, _) in TYPES.items() if content.startswith(magic)), None)


def _path(directory: Path, sha256: str) -> Path:
    return directory / sha256[:2] / sha256


def _write(directory: Path, sha256: str, content: bytes) -> None:
    """Store the bytes once under their hash, atomically, private to the owner."""
    target = _path(directory, sha256)
    if target.exists():
        return
    private_directory(target.parent)
    partial = target.with_name(target.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.replace(partial, target)


def _clean_name(filename: str) -> str:
    """The file's own name, without any folders a browser sent, in printable characters."""
    name = re.split(r"[\\/]", filename)[-1]
    return "".join(c for c in name if c.isprintable()).strip()[:200]


def add_document(session: Session, directory: Path, patient_id: int, title: str,
                 filename: str, content: bytes, actor_id: int) -> PatientDocument:
    """Keep the file on the patient, or RecordError naming every problem (nothing kept)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    require_member(session, actor_id, patient.clinic_id)
    title, name = title.strip(), _clean_name(filename)
    problems = []
    if not title:
        problems.append(("title", "give the document a title, e.g. MRI report 2026-03"))
    elif len(title) > 200:
        problems.append(("title", "needs at most 200 characters"))
    kind = media_type(content)
    if not content:
        problems.append(("file", "choose a file to upload"))
    elif len(content) > MAX_BYTES:
        problems.append(("file", f"is {len(content) / 1048576:.1f} MB; the limit is "
                                 f"{MAX_BYTES // 1048576} MB"))
    elif kind is None:
        problems.append(("file", "is not a PDF, PNG or JPEG file (read from its content)"))
    elif not name.lower().endswith(TYPES[kind][1]):
        problems.append(("file", f"its name '{name}' does not match its content "
                                 f"({kind}); rename it or choose the right file"))
    if problems:
        raise RecordError(problems)
    assert kind is not None
    sha256 = hashlib.sha256(content).hexdigest()
    _write(directory, sha256, content)
    document = PatientDocument(patient_id=patient.id, title=title, filename=name,
                               media_type=kind, size=len(content), sha256=sha256,
                               uploaded_by=actor_id, uploaded_at=utcnow())
    session.add(document)
    session.flush()
    record_event(session, actor_id, "upload", "document", document.id, patient.clinic_id,
                 {"patient_id": patient.id, "media_type": kind, "size": len(content),
                  "sha256": sha256})
    return document


def documents_of(session: Session, patient_id: int) -> list[PatientDocument]:
    return list(session.scalars(select(PatientDocument).where(
        PatientDocument.patient_id == patient_id).order_by(PatientDocument.uploaded_at.desc(),
                                                           PatientDocument.id.desc())))


def read_document(directory: Path, document: PatientDocument) -> bytes:
    """The document's bytes; NotFound when the file is missing or no longer matches."""
    path = _path(directory, document.sha256)
    if not path.is_file():
        raise NotFound(f"the file of document {document.id} is missing")
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise NotFound(f"the file of document {document.id} no longer matches its hash")
    return content


def pack(url: str, backup_file: Path, hashes: list[str]) -> int:
    """Copy the files named by `hashes` into the backup file (a table of its own)."""
    directory = documents_dir(url)
    with sqlite3.connect(backup_file) as connection:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {BACKUP_TABLE} "
                           "(sha256 TEXT PRIMARY KEY, content BLOB NOT NULL)")
        for sha256 in sorted(set(hashes)):
            path = _path(directory, sha256)
            if path.is_file():
                connection.execute(f"INSERT OR REPLACE INTO {BACKUP_TABLE} VALUES (?, ?)",
                                   (sha256, path.read_bytes()))
    connection.close()
    return len(set(hashes))


def unpack(backup_file: Path, url: str) -> int:
    """Write the backup's files into the documents directory of `url`; each is checked
    against its hash first. How many were written."""
    directory = documents_dir(url)
    written = 0
    with sqlite3.connect(backup_file) as connection:
        found = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                   "name = ?", (BACKUP_TABLE,)).fetchone()
        rows = connection.execute(f"SELECT sha256, content FROM {BACKUP_TABLE}") if found else []
        for sha256, content in rows:
            if hashlib.sha256(content).hexdigest() == sha256:
                _write(directory, sha256, content)
                written += 1
    connection.close()
    return written

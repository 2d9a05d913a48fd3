"""Importing files: read them all first (a bad one stops everything before anything is
written), then each patient in a transaction of their own, with a report that lists every
resource not imported and why (a summary, and rows for a CSV).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sijcare.interop.fhir.incoming import Skipped, incoming_patient, key
from sijcare.interop.fhir.reading import (
    SUBJECT_KEYS,
    BadFile,
    read_file,
    reference_id,
    resolved,
)
from sijcare.interop.fhir.saving import PatientImport, import_patient

CSV_COLUMNS = ("file", "resource", "outcome", "reason")


@dataclass
class ImportReport:
    patients: list[PatientImport] = field(default_factory=list)
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # see CSV_COLUMNS
    files: dict[str, str] = field(default_factory=dict)  # the file of each Type/id

    def add(self, fallback: str, found: Skipped, outcome: str) -> None:
        first = found.resource.split(", ")[0]
        self.rows.append((self.files.get(first, fallback), found.resource, outcome,
                          found.reason))

    def count(self, status: str) -> int:
        return sum(p.status == status for p in self.patients)

    @property
    def created(self) -> int:
        return sum(p.created for p in self.patients)

    @property
    def unchanged(self) -> int:
        return sum(p.unchanged for p in self.patients)

    @property
    def skipped(self) -> int:
        return sum(row[2] == "skipped" for row in self.rows)

    @property
    def rejected(self) -> int:
        return sum(row[2] == "rejected" for row in self.rows)

    def summary(self) -> str:
        return (f"patients: {self.count('created')} new, {self.count('matched')} matched, "
                f"{self.count('needs_confirmation')} to confirm, {self.count('rejected')} "
                f"rejected; records: {self.created} imported, {self.unchanged} already there, "
                f"{self.skipped} resources skipped, {self.rejected} rejected")

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(self.rows)
        return out.getvalue()


def files_in(path: Path) -> list[Path]:
    """A file, or a directory's `.json` and `.ndjson` files in name order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".json", ".ndjson"))
    if not path.exists():
        raise BadFile(f"{path}: no such file or directory")
    return [path]


def by_patient(placed: list[tuple[str, dict]]
               ) -> tuple[list[tuple[str, dict, list[dict]]], list[tuple[str, Skipped]]]:
    """Each Patient with the resources about them; resources about nobody are skipped (a
    Medication stays with everyone, for the statements that name it)."""
    patients = {key(r): (where, r, []) for where, r in placed if r["resourceType"] == "Patient"}
    medications = [r for _, r in placed if r["resourceType"] == "Medication"]
    skipped = []
    for where, resource in placed:
        if resource["resourceType"] in ("Patient", "Medication"):
            continue
        subject = next((reference_id(resource.get(k)) for k in SUBJECT_KEYS
                        if reference_id(resource.get(k))), None)
        if subject in patients:
            patients[subject][2].append(resource)
        else:
            skipped.append((where, Skipped(key(resource), "is about no patient of the file")))
    return ([(where.split(": ")[0], p, [*found, *medications])
             for where, p, found in patients.values()], skipped)


def import_fhir(session: Session, paths: list[Path], clinic_id: int, actor_id: int, *,
                same_as: Mapping[str, int] | None = None, as_new: set[str] | None = None,
                today: dt.date | None = None,
                advance: Callable[[int], None] = lambda n: None) -> ImportReport:
    """Import every file (BadFile, writing nothing, if any cannot be read), committing each
    patient alone. `same_as` and `as_new` answer a confirmation by the patient's source."""
    placed = resolved([read_file(path) for path in paths])
    today = today or dt.date.today()
    report = ImportReport(files={key(r): where.split(": ")[0] for where, r in placed})
    patients, about_nobody = by_patient(placed)
    for where, found in about_nobody:
        report.add(where.split(": ")[0], found, "skipped")
    for name, patient, resources in patients:
        report.patients.append(_one(session, name, patient, resources, clinic_id, actor_id,
                                    same_as or {}, as_new or set(), today, report))
        advance(1)
    return report


def _one(session: Session, name: str, patient: dict[str, Any], resources: list[dict],
         clinic_id: int, actor_id: int, same_as: Mapping[str, int], as_new: set[str],
         today: dt.date, report: ImportReport) -> PatientImport:
    incoming = incoming_patient(patient, resources, today)
    for found in incoming.skipped:
        report.add(name, found, "skipped")
    try:
        done = import_patient(session, clinic_id, actor_id, incoming,
                              same_as=same_as.get(incoming.source),
                              as_new=incoming.source in as_new, today=today)
        if done.status in ("needs_confirmation", "rejected"):
            session.rollback()
        else:
            session.commit()
    except SQLAlchemyError as error:  # the patient's transaction undone whole
        session.rollback()
        done = PatientImport(incoming.source, incoming.resource, "rejected",
                             reason=f"not saved: {type(error).__name__}")
    for found in done.rejected:
        report.add(name, found, "rejected")
    if done.status in ("needs_confirmation", "rejected"):
        report.rows.append((name, done.resource, done.status, done.reason))
    return done

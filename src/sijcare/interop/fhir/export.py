"""Reading the store for the mapping: one patient or episode as a Bundle, or everything as
NDJSON per resource type (FHIR Bulk Data's layout).

The mapping itself stays pure (`episode.py`); this module loads what it reads, in batches
for the bulk export (one query per record table per batch of episodes), and renders each
signed assessment's PDF for its DocumentReference when asked to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from sijcare.interop.fhir.base import Resource, instant
from sijcare.interop.fhir.codesystem import code_system
from sijcare.interop.fhir.collecting import collected_after, collected_per_batch
from sijcare.interop.fhir.episode import episode_resources
from sijcare.interop.fhir.patient import organization, patient
from sijcare.interop.fhir.questionnaires import questionnaires
from sijcare.interop.fhir.signatures import Signature
from sijcare.model.assessment import Assessment
from sijcare.store.episode_records import load_many_episode_records
from sijcare.store.errors import NotFound
from sijcare.store.models import Episode, Patient, SignedAssessment, User, utcnow

Pdf = Callable[[SignedAssessment, Patient, str], bytes]
BATCH = 500
# One encoder for every line (`json.dumps` with options builds one per call).
_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def signatures(session: Session, episodes: list[Episode],
               pdf: Pdf | None = None) -> dict[int, list[Signature]]:
    """Each episode's signed assessments, oldest first, each with its PDF when `pdf` renders
    one."""
    found: dict[int, list[Signature]] = {e.id: [] for e in episodes}
    patients = {e.id: e.patient for e in episodes}
    rows = session.execute(
        select(SignedAssessment, User.username).join(User, User.id == SignedAssessment.signer_id)
        .where(SignedAssessment.episode_id.in_(list(found)))
        .order_by(SignedAssessment.signed_at, SignedAssessment.id))
    for row, signer in rows:
        found[row.episode_id].append(Signature(
            row, Assessment.model_validate(row.assessment), signer,
            pdf(row, patients[row.episode_id], signer) if pdf else None))
    return found


def _episodes_resources(session: Session, episodes: list[Episode],
                        pdf: Pdf | None) -> Iterator[Resource]:
    """Episode after episode, so a batch's resources are written as they are made rather
    than held together (fewer live objects: the garbage collector's passes stay short)."""
    records = load_many_episode_records(session, episodes)
    signed = signatures(session, episodes, pdf)
    for e in episodes:
        yield from episode_resources(records[e.id], signed[e.id])


def bundle(resources: list[Resource], base: str, kind: str = "collection") -> Resource:
    """A Bundle whose entries' fullUrls resolve the resources' relative references."""
    entries = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
               for r in resources]
    found: Resource = {"resourceType": "Bundle", "meta": {"lastUpdated": instant(utcnow())},
                       "type": kind, "timestamp": instant(utcnow())}
    if kind == "searchset":
        found["total"] = len(entries)
        entries = [{**e, "search": {"mode": "match"}} for e in entries]
    return {**found, "entry": entries}


def patient_resources(session: Session, patient_id: int, pdf: Pdf | None = None,
                      episode_id: int | None = None) -> list[Resource]:
    """The patient, their clinic and every episode's resources (or one episode's)."""
    row = session.get(Patient, patient_id, options=[joinedload(Patient.clinic)])
    if row is None:
        raise NotFound(f"no patient {patient_id}")
    episodes = [e for e in row.episodes if episode_id in (None, e.id)]
    return [organization(row.clinic), patient(row),
            *_episodes_resources(session, episodes, pdf)]


def episode_patient(session: Session, episode_id: int) -> Patient:
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id}")
    return episode.patient


class NdjsonFiles:
    """One `<ResourceType>.ndjson` per type in a directory, readable by its owner only (the
    files name patients), counting lines as they are written."""

    def __init__(self, directory: Path):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory = directory
        self.counts: dict[str, int] = {}
        self._files: dict[str, IO[str]] = {}

    def write(self, resources: Iterable[Resource]) -> None:
        for resource in resources:
            kind = resource["resourceType"]
            if kind not in self._files:
                path = self.directory / f"{kind}.ndjson"
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.fchmod(descriptor, 0o600)
                self._files[kind] = os.fdopen(descriptor, "w", encoding="utf-8")
                self.counts[kind] = 0
            self._files[kind].write(_LINE.encode(resource) + "\n")
            self.counts[kind] += 1

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()


def _in_batches(session: Session, model: Any, write: Callable[[list[int]], None],
                done: Callable[[], None]) -> None:
    """`write` each batch of the rows' ids, then empty the session and collect what the
    batch left (`done`): its rows are no longer referenced once `write` returns."""
    ids = list(session.scalars(select(model.id).order_by(model.id)))
    for start in range(0, len(ids), BATCH):
        write(ids[start:start + BATCH])
        session.expunge_all()
        done()


def bulk_export(session: Session, directory: Path, *, pdf: Pdf | None = None,
                licensed_odi: list[dict[str, Any]] | None = None,
                advance: Callable[[int], None] = lambda n: None) -> dict[str, int]:
    """Everything, as Bulk Data NDJSON: the CodeSystem and Questionnaires, every clinic and
    patient, then every episode's resources. `advance` hears of each batch of episodes.
    Memory stays flat however large the clinic: rows are read a batch at a time."""
    files = NdjsonFiles(directory)
    clinics_seen: set[int] = set()
    render = collected_after(pdf) if pdf else None

    def patients(ids: list[int]) -> None:
        rows = session.scalars(select(Patient).options(joinedload(Patient.clinic))
                               .where(Patient.id.in_(ids)).order_by(Patient.id))
        for row in rows:
            if row.clinic_id not in clinics_seen:
                clinics_seen.add(row.clinic_id)
                files.write([organization(row.clinic)])
            files.write([patient(row)])

    def episodes(ids: list[int]) -> None:
        rows = list(session.scalars(
            select(Episode).options(joinedload(Episode.patient).joinedload(Patient.clinic))
            .where(Episode.id.in_(ids)).order_by(Episode.id)))
        files.write(_episodes_resources(session, rows, render))
        advance(len(rows))

    try:
        with collected_per_batch() as done:
            files.write([code_system(), *questionnaires(licensed_odi)])
            _in_batches(session, Patient, patients, done)
            _in_batches(session, Episode, episodes, done)
    finally:
        files.close()
    return files.counts


def episode_count(session: Session) -> int:
    return session.scalar(select(func.count(Episode.id))) or 0

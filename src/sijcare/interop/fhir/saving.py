"""Writing one imported patient: found or created, their episodes and records, each remembered
by where it came from (`ImportedRecord`), so importing the same file again changes nothing.

Records are checked exactly as a clinician's (`records.checked_row`); one that fails is
rejected with the field named and the rest still imported. The caller commits once per
patient, so a patient is imported whole or not at all. A patient who matches one of the
clinic's only by name and date of birth is not merged silently: nothing is written until the
importer says whether it is the same person (`same_as`) or a new one (`as_new`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from sijcare.interop.fhir.incoming import Incoming, IncomingPatient, Skipped
from sijcare.store.audit import record_event
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import Episode, ImportedRecord, NoneRecord, Patient
from sijcare.store.patients import create_episode, create_patient
from sijcare.store.records import checked_row
from sijcare.store.users import require_member

IMPORT_EPISODE = "SI-joint pain (imported record)"


@dataclass
class PatientImport:
    """What became of one patient of the file."""

    source: str
    resource: str
    status: str  # created, matched, needs_confirmation, rejected
    patient_id: int | None = None
    created: int = 0
    unchanged: int = 0
    rejected: list[Skipped] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)
    reason: str = ""


def _known(session: Session, clinic_id: int, incoming: IncomingPatient) -> dict[str, int]:
    """The id each of the patient's sources (the patient's, their episodes' and records')
    was imported as before, in one query."""
    sources = [incoming.source, *(f"{incoming.source}|{item.source}"
                                  for item in (*incoming.episodes, *incoming.records))]
    return dict(session.execute(select(ImportedRecord.source, ImportedRecord.record_id).where(
        ImportedRecord.clinic_id == clinic_id, ImportedRecord.source.in_(sources))).all())


@dataclass
class _Remembered:
    """Where each row written for one patient came from, written together once the patient's
    rows are flushed (one executemany, where the ORM writes a row at a time on SQLite), in
    the patient's transaction."""

    clinic_id: int
    actor_id: int
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, source: str, kind: str, record_id: int, patient_id: int,
            episode_id: int | None, review: str) -> None:
        self.rows.append({"clinic_id": self.clinic_id, "source": source, "kind": kind,
                          "record_id": record_id, "patient_id": patient_id,
                          "episode_id": episode_id, "review": review,
                          "imported_by": self.actor_id})

    def write(self, session: Session) -> None:
        if self.rows:
            session.execute(insert(ImportedRecord), self.rows)


def same_name_and_birth(session: Session, clinic_id: int, incoming: IncomingPatient
                        ) -> list[int]:
    try:
        born = dt.date.fromisoformat(incoming.birth_date)
    except ValueError:
        return []
    return list(session.scalars(select(Patient.id).where(
        Patient.clinic_id == clinic_id, Patient.birth_date == born,
        Patient.merged_into_id.is_(None),
        func.lower(Patient.family_name) == incoming.family_name.lower(),
        func.lower(Patient.given_name) == incoming.given_name.lower())))


def _find_patient(session: Session, clinic_id: int, incoming: IncomingPatient,
                  known: dict[str, int]) -> int | None:
    if incoming.source in known:
        return known[incoming.source]
    if incoming.external_id is None:
        return None
    found = session.scalar(select(Patient).where(
        Patient.clinic_id == clinic_id, Patient.external_id == incoming.external_id))
    return None if found is None else found.merged_into_id or found.id  # merged: survivor


def import_patient(session: Session, clinic_id: int, actor_id: int, incoming: IncomingPatient,
                   *, same_as: int | None = None, as_new: bool = False,
                   today: dt.date | None = None) -> PatientImport:
    """Import the patient's episodes and records (flushed, not committed)."""
    today = today or dt.date.today()
    require_member(session, actor_id, clinic_id)  # once: the records then need not each ask
    outcome = PatientImport(incoming.source, incoming.resource, "matched")
    known = _known(session, clinic_id, incoming)
    patient_id = _find_patient(session, clinic_id, incoming, known)
    if patient_id is None and same_as is not None:
        patient = session.get(Patient, same_as)
        if patient is None or patient.clinic_id != clinic_id:
            raise NotFound(f"no patient {same_as} in this clinic")
        patient_id = same_as
    candidates = (same_name_and_birth(session, clinic_id, incoming)
                  if patient_id is None and not as_new else [])
    if candidates:
        outcome.status, outcome.candidates = "needs_confirmation", candidates
        outcome.reason = ("same name and date of birth as patient "
                          + ", ".join(f"#{c}" for c in candidates)
                          + ": confirm whether this is the same person")
        return outcome
    if patient_id is None:
        try:
            patient = create_patient(session, clinic_id, {
                "given_name": incoming.given_name, "family_name": incoming.family_name,
                "birth_date": incoming.birth_date, "sex": incoming.sex,
                "external_id": incoming.external_id}, actor_id, demo=incoming.demo, today=today)
        except RecordError as error:
            outcome.status = "rejected"
            outcome.reason = "; ".join(f"{f or 'patient'}: {m}" for f, m in error.problems)
            return outcome
        outcome.status = "created"
    else:
        patient = session.get(Patient, patient_id)
    assert patient is not None
    outcome.patient_id = patient.id
    remembered = _Remembered(clinic_id, actor_id)
    if incoming.source not in known:
        remembered.add(incoming.source, "patient", patient.id, patient.id, None,
                       "accepted" if outcome.status == "created" else "unreviewed")
    episodes = _episodes(session, actor_id, patient, incoming, today, outcome, known,
                         remembered)
    _records(session, clinic_id, actor_id, patient, incoming, episodes, today, outcome, known,
             remembered)
    session.flush()
    remembered.write(session)
    record_event(session, actor_id, "import", "patient", patient.id, clinic_id,
                 {"source": incoming.source[:120], "created": outcome.created,
                  "unchanged": outcome.unchanged, "rejected": len(outcome.rejected)})
    return outcome


def _episodes(session: Session, actor_id: int, patient: Patient, incoming: IncomingPatient,
              today: dt.date, outcome: PatientImport, known: dict[str, int],
              remembered: _Remembered) -> list[Episode]:
    """The patient's episodes the records go to, oldest first: the file's, else the patient's
    open episode, else one opened for the import."""
    found: list[Episode] = []
    for sent in incoming.episodes:
        source = f"{incoming.source}|{sent.source}"
        if source in known:
            found.append(session.get(Episode, known[source]))
            outcome.unchanged += 1
            continue
        try:
            episode = create_episode(session, patient.id, {
                "complaint": sent.complaint, "opened_on": sent.opened_on.isoformat(),
                "closed_on": sent.closed_on.isoformat() if sent.closed_on else None},
                actor_id, today=today)
        except RecordError as error:
            outcome.rejected.append(Skipped(sent.source, _words(error)))
            continue
        remembered.add(source, "episode", episode.id, patient.id, episode.id, "accepted")
        outcome.created += 1
        found.append(episode)
    if found or not incoming.records:
        return sorted(found, key=lambda e: (e.opened_on, e.id))
    open_ones = [e for e in patient.episodes if e.closed_on is None]
    if open_ones:
        return [open_ones[-1]]
    return [create_episode(session, patient.id, {"complaint": IMPORT_EPISODE,
                                                 "opened_on": today.isoformat()},
                           actor_id, today=today)]


def _episode_of(episodes: list[Episode], day: dt.date) -> Episode:
    """The latest episode opened by `day` (the first if none was)."""
    opened = [e for e in episodes if e.opened_on <= day]
    return opened[-1] if opened else episodes[0]


def _words(error: RecordError) -> str:
    return "; ".join(f"{f}: {m}" if f else m for f, m in error.problems)


def _records(session: Session, clinic_id: int, actor_id: int, patient: Patient,
             incoming: IncomingPatient, episodes: list[Episode], today: dt.date,
             outcome: PatientImport, known: dict[str, int], remembered: _Remembered) -> None:
    """The records not imported before, checked one by one and flushed together: first
    everything but outcomes, then the outcomes, which name the procedures they follow up."""
    if not episodes:
        return
    sources = {r.source: f"{incoming.source}|{r.source}" for r in incoming.records}
    made = dict(known)
    new = [r for r in incoming.records if sources[r.source] not in known]
    outcome.unchanged += len(incoming.records) - len(new)
    for batch in ([r for r in new if r.follows is None], [r for r in new if r.follows]):
        written = []
        for record in batch:
            data = dict(record.data)
            if record.follows is not None:
                followed = made.get(f"{incoming.source}|{record.follows}")
                if followed is None:
                    outcome.rejected.append(Skipped(
                        record.source, f"follows up {record.follows}, which was not imported"))
                    continue
                data["procedure_id"] = followed
            episode = _episode_of(episodes, record.recorded_on)
            if row := _checked(session, clinic_id, actor_id, episode, record, data, today,
                               outcome):
                written.append((record, episode, row))
        session.flush()
        for record, episode, row in written:
            source = sources[record.source]
            kind = "none" if isinstance(row, NoneRecord) else record.kind
            remembered.add(source, kind, row.id, patient.id, episode.id, "unreviewed")
            made[source] = row.id
            outcome.created += 1


def _checked(session: Session, clinic_id: int, actor_id: int, episode: Episode,
             record: Incoming, data: dict[str, object], today: dt.date,
             outcome: PatientImport) -> Any:
    """The record's row added to the session (not flushed), or None with why it was not."""
    try:
        row, _ = checked_row(session, episode.id, record.kind, data, actor_id,
                             record.recorded_on, today=today, member_of=clinic_id)
    except (RecordError, NotFound) as error:
        reason = _words(error) if isinstance(error, RecordError) else str(error)
        outcome.rejected.append(Skipped(", ".join(record.resources), reason))
        return None
    if record.patient_reported:
        row.patient_reported = True
    session.add(row)
    return row

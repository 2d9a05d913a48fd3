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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sijcare.interop.fhir.incoming import Incoming, IncomingPatient, Skipped
from sijcare.store.audit import record_event
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import Episode, ImportedRecord, Patient
from sijcare.store.patients import create_episode, create_patient
from sijcare.store.records import checked_row

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


def _known(session: Session, clinic_id: int, sources: list[str]) -> dict[str, ImportedRecord]:
    rows = session.scalars(select(ImportedRecord).where(
        ImportedRecord.clinic_id == clinic_id, ImportedRecord.source.in_(sources)))
    return {row.source: row for row in rows}


def _remember(session: Session, clinic_id: int, source: str, kind: str, record_id: int,
              patient_id: int, episode_id: int | None, actor_id: int, review: str) -> None:
    session.add(ImportedRecord(clinic_id=clinic_id, source=source, kind=kind,
                               record_id=record_id, patient_id=patient_id,
                               episode_id=episode_id, review=review, imported_by=actor_id))


def same_name_and_birth(session: Session, clinic_id: int, incoming: IncomingPatient
                        ) -> list[int]:
    try:
        born = dt.date.fromisoformat(incoming.birth_date)
    except ValueError:
        return []
    return list(session.scalars(select(Patient.id).where(
        Patient.clinic_id == clinic_id, Patient.birth_date == born,
        func.lower(Patient.family_name) == incoming.family_name.lower(),
        func.lower(Patient.given_name) == incoming.given_name.lower())))


def _find_patient(session: Session, clinic_id: int, incoming: IncomingPatient
                  ) -> int | None:
    if known := _known(session, clinic_id, [incoming.source]).get(incoming.source):
        return known.record_id
    if incoming.external_id is None:
        return None
    return session.scalar(select(Patient.id).where(Patient.clinic_id == clinic_id,
                                                   Patient.external_id == incoming.external_id))


def import_patient(session: Session, clinic_id: int, actor_id: int, incoming: IncomingPatient,
                   *, same_as: int | None = None, as_new: bool = False,
                   today: dt.date | None = None) -> PatientImport:
    """Import the patient's episodes and records (flushed, not committed)."""
    today = today or dt.date.today()
    outcome = PatientImport(incoming.source, incoming.resource, "matched")
    patient_id = _find_patient(session, clinic_id, incoming)
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
    if not _known(session, clinic_id, [incoming.source]):
        _remember(session, clinic_id, incoming.source, "patient", patient.id, patient.id, None,
                  actor_id, "accepted" if outcome.status == "created" else "unreviewed")
    episodes = _episodes(session, clinic_id, actor_id, patient, incoming, today, outcome)
    _records(session, clinic_id, actor_id, patient, incoming, episodes, today, outcome)
    session.flush()
    record_event(session, actor_id, "import", "patient", patient.id, clinic_id,
                 {"source": incoming.source[:120], "created": outcome.created,
                  "unchanged": outcome.unchanged, "rejected": len(outcome.rejected)})
    return outcome


def _episodes(session: Session, clinic_id: int, actor_id: int, patient: Patient,
              incoming: IncomingPatient, today: dt.date,
              outcome: PatientImport) -> list[Episode]:
    """The patient's episodes the records go to, oldest first: the file's, else the patient's
    open episode, else one opened for the import."""
    found: list[Episode] = []
    for sent in incoming.episodes:
        source = f"{incoming.source}|{sent.source}"
        if known := _known(session, clinic_id, [source]).get(source):
            found.append(session.get(Episode, known.record_id))
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
        _remember(session, clinic_id, source, "episode", episode.id, patient.id, episode.id,
                  actor_id, "accepted")
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
             outcome: PatientImport) -> None:
    if not episodes:
        return
    sources = {r.source: f"{incoming.source}|{r.source}" for r in incoming.records}
    known = _known(session, clinic_id, list(sources.values()))
    made: dict[str, int] = {s: row.record_id for s, row in known.items()}
    # procedures first, so an outcome finds the procedure it follows up
    for record in sorted(incoming.records, key=lambda r: r.kind == "procedure_outcome"):
        source = sources[record.source]
        if source in known:
            outcome.unchanged += 1
            continue
        data = dict(record.data)
        if record.follows is not None:
            followed = made.get(f"{incoming.source}|{record.follows}")
            if followed is None:
                outcome.rejected.append(Skipped(record.source, f"follows up {record.follows}, "
                                                               "which was not imported"))
                continue
            data["procedure_id"] = followed
        episode = _episode_of(episodes, record.recorded_on)
        if row := _write(session, actor_id, episode, record, data, today, outcome):
            _remember(session, clinic_id, source, record.kind, row.id, patient.id, episode.id,
                      actor_id, "unreviewed")
            made[source] = row.id
            outcome.created += 1


def _write(session: Session, actor_id: int, episode: Episode, record: Incoming,
           data: dict[str, object], today: dt.date, outcome: PatientImport) -> object | None:
    try:
        row, _ = checked_row(session, episode.id, record.kind, data, actor_id,
                             record.recorded_on, today=today)
    except (RecordError, NotFound) as error:
        reason = _words(error) if isinstance(error, RecordError) else str(error)
        outcome.rejected.append(Skipped(", ".join(record.resources), reason))
        return None
    if record.patient_reported:
        row.patient_reported = True
    session.add(row)
    session.flush()
    return row

"""A hospital's FHIR resources as the engine's `Case`, read as the import reads them, unsaved.

A CDS Hooks call brings a patient's resources. They go through the importer's mapping
(`incoming_patient`) into records, each checked as a clinician's form is
(`store.records.valid_form`), and the records make the Case the way the episode page's
records do (`EpisodeRecords.case_as_of`): the same latest-wins, the same lists, "none"
lists and relief from outcomes. So a hook and the episode page agree for the same data.

The records belong to the patient's current episode as the importer would file them: those
dated from the latest SI-joint problem opened by `as_of` (all of them when there is none).

Every fact counts as recorded: in a hook the clinician is looking at the EHR's own record,
so nothing here waits for review as an imported record does in sijcare (see `REVIEW_RULE`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sijcare.interop.fhir.incoming import Incoming, IncomingPatient, incoming_patient
from sijcare.model.case import Case
from sijcare.store.episode_records import EpisodeRecords, StoredRecord
from sijcare.store.errors import RecordError
from sijcare.store.kinds import KINDS
from sijcare.store.models import Episode, NoneRecord, Patient
from sijcare.store.records import valid_form

REVIEW_RULE = ("Read from the EHR's record as sent: every fact counts as recorded, those "
               "that open an option too (an imported record waits for a clinician's review "
               "in sijcare; here the clinician is looking at the EHR's own record).")


class UnusableRecord(ValueError):
    """Records the EHR sent that no clinician could save; `problems` name each one's field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _current(found: IncomingPatient, as_of: dt.date) -> list[Incoming]:
    """The records the importer files in the latest episode opened by `as_of`."""
    opened = sorted(e.opened_on for e in found.episodes if e.opened_on <= as_of)
    if len(opened) < 2:
        return found.records
    return [r for r in found.records if r.recorded_on >= opened[-1]]


def _rows(records: list[Incoming], as_of: dt.date) -> tuple[dict[str, list[StoredRecord]],
                                                            list[NoneRecord]]:
    """Each record as the unsaved row a clinician's form would make (numbered in order);
    outcomes name the procedure they follow up by its number, and without it are left out as
    the import leaves them."""
    by_kind: dict[str, list[StoredRecord]] = {name: [] for name in KINDS}
    nones: list[NoneRecord] = []
    numbers: dict[str, int] = {}
    problems: list[str] = []
    ordered = sorted(records, key=lambda r: r.follows is not None)  # outcomes last
    for number, record in enumerate(ordered, start=1):
        data: dict[str, Any] = dict(record.data)
        if record.follows is not None:
            if record.follows not in numbers:
                continue
            data["procedure_id"] = numbers[record.follows]
        spec = KINDS[record.kind]
        try:
            form = valid_form(spec, data, as_of)
        except RecordError as error:
            problems += [f"{', '.join(record.resources)} {field}: {message}".replace(" : ", ": ")
                         for field, message in error.problems]
            continue
        common = {"episode_id": 0, "recorded_on": record.recorded_on, "recorded_by": None}
        if "none" in data and spec.case_field:
            nones.append(NoneRecord(id=number, kind=record.kind, **common))
            continue
        row = spec.build(form, **common)
        row.id = number
        numbers[record.source] = number
        by_kind[record.kind].append(StoredRecord(spec, row))
    if problems:
        raise UnusableRecord(problems)
    for found in by_kind.values():
        found.sort(key=lambda r: (r.date, r.row.id))
    return by_kind, nones


def ehr_case(resources: list[dict[str, Any]], as_of: dt.date, patient_id: str) -> Case:
    """The Case the EHR's resources tell of on `as_of`, the patient named `patient_id`.
    UnusableRecord when a record could not be saved by a clinician; ValueError or pydantic's
    ValidationError when the whole tells an impossible case."""
    sent = [r for r in resources if isinstance(r, dict) and _named(r.get("resourceType"))
            and _named(r.get("id"))]  # the mapping names each resource by Type/id
    patient = next((r for r in sent if r["resourceType"] == "Patient"),
                   {"resourceType": "Patient", "id": patient_id})
    others = [r for r in sent if r is not patient]
    found = incoming_patient(patient, others, as_of)
    by_kind, nones = _rows(_current(found, as_of), as_of)
    born = found.birth_date
    person = Patient(external_id=patient_id, sex=found.sex,
                     birth_date=dt.date.fromisoformat(born) if _iso(born) else None)
    episode = Episode(id=0, patient=person)
    return EpisodeRecords(0, episode, by_kind, nones).case_as_of(as_of)


def _named(value: object) -> bool:
    """A resource's type and id are non-empty text (an EHR's prefetch may hold anything)."""
    return isinstance(value, str) and bool(value)


def _iso(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True

"""One episode as FHIR resources: its records, its problem, and its signatures.

Pure: it reads records already loaded (`EpisodeRecords`) and signatures already parsed, and
returns resources in a fixed order, so the same episode always exports the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from sijcare.interop.fhir.base import Resource, fhir_id, reference
from sijcare.interop.fhir.examination import exam_resources
from sijcare.interop.fhir.findings import findings
from sijcare.interop.fhir.history import intake_resources
from sijcare.interop.fhir.medications import medication_resources
from sijcare.interop.fhir.nothing import none_list
from sijcare.interop.fhir.patient import organization_id
from sijcare.interop.fhir.plans import care_plan, next_step, problem
from sijcare.interop.fhir.procedures import (
    block_resources,
    outcome_resources,
    treatment_resources,
)
from sijcare.interop.fhir.records import Recorded
from sijcare.interop.fhir.responses import prom_resources
from sijcare.interop.fhir.signatures import Signature, diagnosis, document, provenance
from sijcare.interop.fhir.workup import care_course_resources, imaging_resources
from sijcare.store.episode_records import EpisodeRecords, StoredRecord

MAPPED: dict[str, Callable[[Recorded], list[Resource]]] = {
    "exam": lambda r: [*exam_resources(r), *findings(r, "exam")], "block": block_resources,
    "procedure": treatment_resources,
    "procedure_outcome": outcome_resources,
    "prom": lambda r: prom_resources(r, bool(r.record.row.patient_reported)),
    "imaging": imaging_resources, "care_course": care_course_resources,
}


def _current(records: list[StoredRecord]) -> StoredRecord | None:
    """The latest record not entered in error: the one the case reads today."""
    return next((r for r in reversed(records) if r.row.voided_on is None), None)


def episode_resources(records: EpisodeRecords, signatures: list[Signature]) -> list[Resource]:
    """`signatures` oldest first; the latest one gives the CarePlan and the next step."""
    episode = records.episode
    assert episode is not None, "an episode that exists"
    patient_id = str(episode.patient_id)
    authors = records.authors or {}

    def recorded(record: StoredRecord) -> Recorded:
        return Recorded(record, patient_id, authors.get(record.row.recorded_by))

    intakes = records.by_kind["intake"]
    intake = _current(intakes)
    found: list[Resource] = []
    for record in intakes:
        found += [*intake_resources(recorded(record), record is intake),
                  *findings(recorded(record), "intake")]
    for kind, mapping in MAPPED.items():
        for record in records.by_kind[kind]:
            found += mapping(recorded(record))
    if medications := _current(records.by_kind["medications"]):
        found += medication_resources(recorded(medications))
    found += [none_list(none, patient_id) for none in records.nones]
    latest = signatures[-1] if signatures else None
    form = intake.form if intake else None
    found.append(problem(episode, latest, form.pain_onset.isoformat()
                         if form and form.pain_onset else None, form.side if form else None))
    if latest:
        found += [care_plan(episode, latest), next_step(episode, latest)]
    clinic = episode.patient.clinic
    for signature in signatures:
        targets = ([reference("CarePlan", fhir_id("episode", episode.id)),
                    reference("ServiceRequest", fhir_id("episode", episode.id))]
                   if signature is latest else [])
        found += [document(signature, patient_id), diagnosis(signature, patient_id),
                  provenance(signature, targets, reference(
                      "Organization", organization_id(clinic), clinic.name))]
    return found

"""The examination: one Observation per provocation test performed, coded by sijcare's
CodeSystem (no standard code names these tests), with its side and whether it reproduced
the familiar pain as components. A test not performed has no Observation."""

from __future__ import annotations

from sijcare.interop.fhir.base import Resource, category, concept, fhir_id, meta, own, pruned
from sijcare.interop.fhir.records import Recorded


def exam_resources(exam: Recorded) -> list[Resource]:
    tests = exam.form.provocation or {}
    return [provocation_test(exam, test, finding) for test, finding in tests.items()]


def provocation_test(exam: Recorded, test: str, finding: object) -> Resource:
    components = []
    if finding.side is not None:
        components.append({"code": concept("side"), "valueCodeableConcept": concept(finding.side)})
    if finding.familiar_pain is not None:
        components.append({"code": concept("familiar_pain"),
                           "valueBoolean": finding.familiar_pain})
    return pruned({
        "resourceType": "Observation", "id": fhir_id("exam", exam.id, test),
        "meta": meta("clinical"), "status": exam.status("final"),
        "category": [category("exam")], "code": concept(test), "subject": exam.subject,
        "effectiveDateTime": exam.recorded_on.isoformat(),
        "valueCodeableConcept": {"coding": [own(finding.result)]},
        "component": components,
    })

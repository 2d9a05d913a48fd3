"""What was done before the procedures: imaging, as an Observation of the imaging category
coded by its modality, and each course of conservative care, as a Procedure of sijcare's
`care_course` category over the period it ran (in progress while it has no end).

Both ways live here, so what is written is what is read.
"""

from __future__ import annotations

import re
from typing import Any

from sijcare.interop.fhir.base import Resource, category, concept, fhir_id, meta, pruned
from sijcare.interop.fhir.findings import own_code
from sijcare.interop.fhir.records import Recorded

CODE = re.compile(r"[a-z][a-z0-9_]*")  # a course type of the vocabulary, not free text


def imaging_resources(imaging: Recorded) -> list[Resource]:
    form = imaging.form
    components: list[dict[str, Any]] = []
    if form.findings is not None:
        components += ([{"code": concept("findings"), "valueString": text}
                        for text in form.findings]
                       or [{"code": concept("findings"), "valueBoolean": False}])
    if form.excludes_other_causes is not None:
        components.append({"code": concept("excludes_other_causes"),
                           "valueBoolean": form.excludes_other_causes})
    return [pruned({
        "resourceType": "Observation", "id": fhir_id("imaging", imaging.id),
        "meta": meta("clinical"), "status": imaging.status("final"),
        "category": [category("imaging")], "code": concept(form.modality),
        "subject": imaging.subject, "effectiveDateTime": form.date.isoformat(),
        "bodySite": concept(form.region) if form.region else None,
        "component": components,
    })]


def read_imaging(resource: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"modality": own_code(resource.get("code")),
                            "region": own_code(resource.get("bodySite"))}
    for part in resource.get("component") or []:
        name = own_code(part.get("code"))
        if name == "findings":
            found = data.setdefault("findings", [])
            if isinstance(part.get("valueString"), str):
                found.append(part["valueString"])
        elif name == "excludes_other_causes":
            data[name] = part.get("valueBoolean")
    return {k: v for k, v in data.items() if v is not None}


def care_course_resources(course: Recorded) -> list[Resource]:
    form = course.form
    code = concept(form.type) if CODE.fullmatch(form.type) else {"text": form.type}
    return [pruned({
        "resourceType": "Procedure", "id": fhir_id("care-course", course.id),
        "meta": meta("procedure"),
        "status": course.status("completed" if form.end else "in-progress"),
        "category": concept("care_course"), "code": code, "subject": course.subject,
        "performedPeriod": pruned({"start": form.start.isoformat(),
                                   "end": form.end.isoformat() if form.end else None}),
    })]


def read_care_course(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The course's data, or None without a type or a start."""
    code = resource.get("code") if isinstance(resource.get("code"), dict) else {}
    period = resource.get("performedPeriod")
    kind = own_code(code) or code.get("text")
    if not kind or not isinstance(period, dict) or not period.get("start"):
        return None
    return pruned({"type": kind, "start": str(period["start"])[:10],
                   "end": str(period["end"])[:10] if period.get("end") else None})

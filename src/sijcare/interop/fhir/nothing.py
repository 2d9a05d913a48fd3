"""A clinician's "none of this kind" (no imaging, no earlier procedures...) as an empty FHIR
List whose emptyReason is "nil known": the engine reads it as none, where a missing List
stays unknown. Both ways live here, so what is written is what is read."""

from __future__ import annotations

from typing import Any

from sijcare.interop.fhir.base import Resource, concept, fhir_id, meta, reference
from sijcare.interop.fhir.findings import own_code
from sijcare.knowledge.terminology import load_terminology
from sijcare.store.models import NoneRecord

KINDS = ("imaging", "care_course", "block", "procedure")  # the lists a case may confirm empty


def none_list(none: NoneRecord, patient_id: str) -> Resource:
    return {
        "resourceType": "List", "id": fhir_id("none", none.id), "meta": meta("list"),
        "status": "entered-in-error" if none.voided_on else "current", "mode": "snapshot",
        "code": concept(none.kind), "subject": reference("Patient", patient_id),
        "date": none.recorded_on.isoformat(),
        "emptyReason": {"coding": [load_terminology().category("nil_known")]},
    }


def read_none(resource: dict[str, Any]) -> str | None:
    """The kind a List confirms there is none of, or None if it is no such List."""
    wanted = load_terminology().category("nil_known")
    reasons = (resource.get("emptyReason") or {}).get("coding") or []
    kind = own_code(resource.get("code"))
    if kind in KINDS and not resource.get("entry") and any(
            isinstance(r, dict) and r.get("system") == wanted["system"]
            and r.get("code") == wanted["code"] for r in reasons):
        return kind
    return None

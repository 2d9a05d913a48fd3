"""What a clinician signed travels as the record of it: the signed assessment as a
DocumentReference (its sealed JSON, and a PDF when one is given), the encounter diagnosis it
made, and a Provenance naming the signer for everything the signature stands behind.

FHIR carries the record: what was recorded and what a clinician signed. The engine's
unsigned suggestion for today stays decision support (CDS Hooks' business), so the CarePlan
and the next-step ServiceRequest come from the latest signature (`plans.py`), never from an
assessment nobody signed.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from sijcare.interop.fhir.base import (
    Resource,
    canonical,
    category,
    concept,
    condition_status,
    fhir_id,
    instant,
    meta,
    reference,
    user_reference,
)
from sijcare.model.assessment import Assessment
from sijcare.store.audit import canonical_json
from sijcare.store.models import SignedAssessment
from sijcare.store.signing import snapshot


@dataclass(frozen=True)
class Signature:
    """A signed assessment as the mapping reads it: the row, the assessment it sealed, the
    signer's username and, optionally, its PDF."""

    row: SignedAssessment
    assessment: Assessment
    signer: str
    pdf: bytes | None = None

    @property
    def id(self) -> str:
        return fhir_id("signed", self.row.id)


def verification(assessment: Assessment) -> str:
    """SI-joint pain is provisional until a diagnostic block confirms it."""
    return "confirmed" if assessment.block.result == "confirmed" else "provisional"


def _attachment(content_type: str, data: bytes, title: str) -> dict[str, object]:
    return {"attachment": {
        "contentType": content_type, "data": base64.b64encode(data).decode(),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(),  # FHIR: SHA-1
        "size": len(data), "title": title}}


def document(signature: Signature, patient_id: str) -> Resource:
    """The seal (sha256 of the canonical JSON) is the identifier: a receiver can check it."""
    row = signature.row
    sealed = canonical_json(snapshot(row)).encode()
    content = [_attachment("application/json", sealed, "Signed assessment (JSON)")]
    if signature.pdf is not None:
        content.append(_attachment("application/pdf", signature.pdf, "Signed assessment"))
    signer = user_reference(signature.signer)
    return {
        "resourceType": "DocumentReference", "id": signature.id, "meta": meta("document"),
        "identifier": [{"system": canonical("signed-assessment-sha256"), "value": row.sha256}],
        "status": "current", "docStatus": "final", "type": category("progress_note"),
        "category": [category("clinical_note")], "subject": reference("Patient", patient_id),
        "date": instant(row.signed_at), "author": [signer], "authenticator": signer,
        "description": f"Assessment as of {row.as_of} under policy {row.policy}, signed",
        "content": content,
        "context": {"period": {"start": row.as_of.isoformat(), "end": row.as_of.isoformat()}},
    }


def diagnosis(signature: Signature, patient_id: str) -> Resource:
    """The encounter diagnosis the signed assessment made on its day."""
    return {
        "resourceType": "Condition", "id": signature.id, "meta": meta("diagnosis"),
        **condition_status(False, "active", verification(signature.assessment)),
        "category": [category("encounter_diagnosis")], "code": concept("sij_pain"),
        "subject": reference("Patient", patient_id),
        "recordedDate": signature.row.as_of.isoformat(),
        "asserter": user_reference(signature.signer),
    }


def provenance(signature: Signature, targets: list[dict[str, str]],
               organization: dict[str, str]) -> Resource:
    return {
        "resourceType": "Provenance", "id": signature.id, "meta": meta("provenance"),
        "target": [reference("DocumentReference", signature.id),
                   reference("Condition", signature.id), *targets],
        "recorded": instant(signature.row.signed_at),
        "activity": {"text": "Signed the assessment"},
        "agent": [{"type": category("author"), "who": user_reference(signature.signer),
                   "onBehalfOf": organization}],
    }

"""Signing an assessment: keep exactly what the clinician saw, sealed.

The seal is an HMAC of the snapshot under the audit key (`audit_key.py`), kept outside the
database, so whoever owns the database can edit a signed assessment but not seal it again.
Assessments signed before seals were keyed carry the plain sha256 (`seal_version` 1); the
"sign" audit entry of every assessment records its seal and version, and the keyed audit
chain holds that entry, so `seals_match_audit` shows a row rewritten as an old, unkeyed seal.
A seal made before the audit key was rotated still verifies with the retired key; a row
resealed with it shows the same way, as another seal than its entry recorded.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.model.assessment import Assessment
from sijcare.store.audit import canonical_json, record_event
from sijcare.store.audit_key import AuditKey, audit_key
from sijcare.store.episode_records import case_patient_id
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import AuditEvent, Episode, SignedAssessment, utcnow
from sijcare.store.users import require_member


def snapshot(signed: SignedAssessment) -> dict[str, Any]:
    """What the seal covers: the assessment JSON with who signed it, when, for what."""
    return {
        "episode_id": signed.episode_id, "as_of": signed.as_of.isoformat(),
        "policy": signed.policy, "knowledge_version": signed.knowledge_version,
        "signer_id": signed.signer_id,
        "signed_at": signed.signed_at.isoformat(timespec="microseconds"),
        "assessment": signed.assessment,
    }


UNKEYED, KEYED = 1, 2


def snapshot_seal(signed: SignedAssessment, version: int = KEYED,
                  key: AuditKey | None = None) -> str:
    """The seal of the snapshot (canonical JSON): keyed, or the plain sha256 of version 1."""
    text = canonical_json(snapshot(signed))
    if version == UNKEYED:
        return hashlib.sha256(text.encode()).hexdigest()
    return (key or audit_key()).mac("assessment-seal", text)


def sign_assessment(session: Session, episode_id: int, assessment: Assessment,
                    signer_id: int) -> SignedAssessment:
    """Store the assessment as signed by `signer_id`, who must work in the patient's clinic."""
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id}")
    expected = case_patient_id(episode.patient)
    if assessment.patient_id != expected:
        raise RecordError([("patient_id", f"the assessment is of '{assessment.patient_id}', "
                                          f"this episode's patient is '{expected}'")])
    clinic_id = episode.patient.clinic_id
    require_member(session, signer_id, clinic_id)
    signed = SignedAssessment(
        episode_id=episode_id, as_of=assessment.as_of, policy=assessment.policy,
        knowledge_version=assessment.knowledge_version, stage=assessment.stage,
        assessment=assessment.model_dump(mode="json"), signer_id=signer_id,
        signed_at=utcnow())
    signed.sha256, signed.seal_version = snapshot_seal(signed), KEYED
    session.add(signed)
    session.flush()
    record_event(session, signer_id, "sign", "assessment", signed.id, clinic_id,
                 {"episode_id": episode_id, "sha256": signed.sha256, "seal_version": KEYED})
    return signed


def seal_intact(signed: SignedAssessment) -> bool:
    """True while the stored snapshot still matches the seal taken when it was signed (with
    the audit key of the day, which may have been retired since)."""
    if signed.seal_version == UNKEYED:
        return snapshot_seal(signed, UNKEYED) == signed.sha256
    return any(snapshot_seal(signed, KEYED, key) == signed.sha256
               for key in audit_key().held())


def seals_match_audit(session: Session) -> list[str]:
    """Problems with signed assessments: a seal that no longer matches, or one other than the
    seal (and version) its "sign" audit entry recorded."""
    recorded = {event.object_id: event.detail or {} for event in session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign",
                                 AuditEvent.object_type == "assessment"))}
    problems = []
    for signed in session.scalars(select(SignedAssessment).order_by(SignedAssessment.id)):
        entry = recorded.get(str(signed.id))
        if not seal_intact(signed):
            problems.append(f"signed assessment {signed.id} does not match its seal: it was "
                            "changed after signing")
        elif entry is None:
            problems.append(f"signed assessment {signed.id} has no 'sign' audit entry")
        elif (entry.get("sha256"), entry.get("seal_version", UNKEYED)) != (
                signed.sha256, signed.seal_version):
            problems.append(f"signed assessment {signed.id} carries another seal than the one "
                            "its audit entry recorded: it was sealed again without the key")
    return problems

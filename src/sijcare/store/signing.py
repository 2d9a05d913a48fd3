"""Signing an assessment: keep exactly what the clinician saw, sealed by a sha256."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from sijcare.model.assessment import Assessment
from sijcare.store.audit import canonical_json, record_event
from sijcare.store.episode_records import case_patient_id
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import Episode, SignedAssessment, utcnow
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


def snapshot_sha256(signed: SignedAssessment) -> str:
    """The hash of the snapshot (canonical JSON), taken when it was signed."""
    return hashlib.sha256(canonical_json(snapshot(signed)).encode()).hexdigest()


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
    signed.sha256 = snapshot_sha256(signed)
    session.add(signed)
    session.flush()
    record_event(session, signer_id, "sign", "assessment", signed.id, clinic_id,
                 {"episode_id": episode_id, "sha256": signed.sha256})
    return signed


def seal_intact(signed: SignedAssessment) -> bool:
    """True while the stored snapshot still matches the hash taken when it was signed."""
    return snapshot_sha256(signed) == signed.sha256

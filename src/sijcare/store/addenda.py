"""Addenda to a signed assessment: signed and timestamped additions shown under it. The signed
assessment itself is never edited; each addendum is sealed like it (a sha256 of what it says,
what it amends, who signed and when)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.audit import canonical_json, record_event
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import AssessmentAddendum, Episode, SignedAssessment, utcnow
from sijcare.store.users import require_member

MAX_TEXT = 4000


def addendum_sha256(addendum: AssessmentAddendum, amended: SignedAssessment) -> str:
    return hashlib.sha256(canonical_json({
        "signed_assessment_id": amended.id, "signed_sha256": amended.sha256,
        "text": addendum.text, "signer_id": addendum.signer_id,
        "signed_at": addendum.signed_at.isoformat(timespec="microseconds")}).encode()).hexdigest()


def add_addendum(session: Session, signed_id: int, text: str, signer_id: int
                 ) -> AssessmentAddendum:
    """Sign `text` as an addendum to the signed assessment; the signer works in its clinic."""
    amended = session.get(SignedAssessment, signed_id)
    if amended is None:
        raise NotFound(f"no signed assessment {signed_id}")
    text = text.strip()
    if not text:
        raise RecordError([("text", "write the addendum")])
    if len(text) > MAX_TEXT:
        raise RecordError([("text", f"needs at most {MAX_TEXT} characters, has {len(text)}")])
    clinic_id = _clinic_of(session, amended)
    require_member(session, signer_id, clinic_id)
    addendum = AssessmentAddendum(signed_assessment_id=amended.id, text=text,
                                  signer_id=signer_id, signed_at=utcnow())
    addendum.sha256 = addendum_sha256(addendum, amended)
    session.add(addendum)
    session.flush()
    record_event(session, signer_id, "sign_addendum", "assessment", amended.id, clinic_id,
                 {"addendum_id": addendum.id, "sha256": addendum.sha256})
    return addendum


def _clinic_of(session: Session, amended: SignedAssessment) -> int:
    episode = session.get(Episode, amended.episode_id)
    assert episode is not None  # a signed assessment's episode is never deleted
    return episode.patient.clinic_id


def addenda(session: Session, signed_id: int) -> list[tuple[AssessmentAddendum, bool]]:
    """The addenda of a signed assessment, oldest first, each with whether its seal holds."""
    amended = session.get(SignedAssessment, signed_id)
    if amended is None:
        return []
    rows = session.scalars(select(AssessmentAddendum).where(
        AssessmentAddendum.signed_assessment_id == signed_id).order_by(AssessmentAddendum.id))
    return [(a, addendum_sha256(a, amended) == a.sha256) for a in rows]

"""Break-glass grants: a clinician's emergency read access to a patient of a clinic they do not
belong to, for a limited time, with a reason; granting is audited (the reads under it are
audited as every read is, marked as break-glass by the web layer)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.errors import RecordError
from sijcare.store.models import BreakGlassGrant, Membership, Patient, utcnow

MIN_REASON, MAX_REASON = 10, 500


def grant_break_glass(db: Session, user_id: int, patient_id: int, reason: str,
                      lasts: dt.timedelta) -> BreakGlassGrant:
    """A new grant, or RecordError naming the field: no such patient, a patient of the user's
    own clinics (no glass to break), or a reason too short to review."""
    reason = " ".join(reason.split())
    problems = []
    patient = db.get(Patient, patient_id)
    if patient is None:
        problems.append(("patient_id", "no patient with this number"))
    elif db.get(Membership, (user_id, patient.clinic_id)) is not None:
        problems.append(("patient_id", "this patient is in your own clinic: open the record"))
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        problems.append(("reason", f"say why, in {MIN_REASON} to {MAX_REASON} characters"))
    if problems:
        raise RecordError(problems)
    assert patient is not None
    now = utcnow()
    grant = BreakGlassGrant(user_id=user_id, patient_id=patient_id, reason=reason,
                            granted_at=now, expires_at=now + lasts)
    db.add(grant)
    db.flush()
    record_event(db, user_id, "break_glass", "patient", patient_id, patient.clinic_id,
                 detail={"reason": reason, "until": grant.expires_at.isoformat(),
                         "grant": grant.id})
    return grant


def active_grant(db: Session, user_id: int, patient_id: int) -> BreakGlassGrant | None:
    return db.scalar(select(BreakGlassGrant).where(
        BreakGlassGrant.user_id == user_id, BreakGlassGrant.patient_id == patient_id,
        BreakGlassGrant.expires_at > utcnow()).order_by(BreakGlassGrant.id.desc()).limit(1))

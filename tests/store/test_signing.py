"""A signed assessment is kept exactly as shown, sealed, and only for the right patient."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.store import (
    AuditEvent,
    RecordError,
    SignedAssessment,
    add_record,
    case_as_of,
    create_user,
    sign_assessment,
)
from sijcare.store.signing import seal_intact
from tests.store.helpers import TODAY, World, make_world


def assessed(session: Session, world: World):  # type: ignore[no-untyped-def]
    add_record(session, world.episode_id, "intake", {"pain_nrs": 6, "red_flags": []},
               world.user_id, TODAY)
    return assess(case_as_of(session, world.episode_id, TODAY), policy="clinic")


def test_signing_keeps_the_snapshot_and_seals_it(session: Session, world: World) -> None:
    assessment = assessed(session, world)
    signed = sign_assessment(session, world.episode_id, assessment, world.user_id)
    session.commit()
    session.expunge_all()
    stored = session.get(SignedAssessment, signed.id)
    assert stored is not None and seal_intact(stored)
    assert (stored.as_of, stored.policy, stored.stage, stored.knowledge_version) == (
        TODAY, "clinic", assessment.stage, assessment.knowledge_version)
    assert stored.assessment == assessment.model_dump(mode="json")
    assert len(stored.sha256) == 64 and stored.signer_id == world.user_id
    event = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert event is not None and (event.action, event.object_id) == ("sign", str(signed.id))
    assert event.detail == {"episode_id": world.episode_id, "sha256": stored.sha256,
                            "seal_version": 2}


def test_a_changed_snapshot_breaks_the_seal(session: Session, world: World) -> None:
    signed = sign_assessment(session, world.episode_id, assessed(session, world), world.user_id)
    session.commit()
    changed = {**signed.assessment, "stage": "maintenance"}
    session.execute(update(SignedAssessment).where(SignedAssessment.id == signed.id)
                    .values(assessment=changed))
    session.commit()
    session.expunge_all()
    stored = session.get(SignedAssessment, signed.id)
    assert stored is not None and not seal_intact(stored)


def test_only_the_episodes_patient_and_clinic_members(session: Session, world: World) -> None:
    other = make_world(session)
    assessment = assessed(session, world)
    with pytest.raises(RecordError, match="patient_id"):
        sign_assessment(session, other.episode_id, assessment, other.user_id)
    outsider = create_user(session, f"outsider_{secrets.token_hex(3)}", "h", "clinician",
                           [other.clinic_id])
    with pytest.raises(PermissionError):
        sign_assessment(session, world.episode_id, assessment, outsider.id)
    assert session.scalars(select(SignedAssessment).where(
        SignedAssessment.episode_id.in_([world.episode_id, other.episode_id]))).all() == []

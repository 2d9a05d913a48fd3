"""Merging two records of one person moves everything and deletes nothing; an admin's unmerge
restores exactly what moved, checked against the audit chain (issue 22, item 2)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, func, select, update
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.store import (
    add_record,
    case_as_of,
    create_episode,
    create_patient,
    create_user,
    search_patients,
    sign_assessment,
    verify_chain,
)
from sijcare.store.appointments import create_request
from sijcare.store.duplicates import possible_duplicates
from sijcare.store.errors import RecordError
from sijcare.store.merges import (
    MOVED_WHOLE,
    OWNED,
    STAYS,
    all_merges,
    merge_patients,
    merges_into,
    unmerge_patients,
)
from sijcare.store.models import (
    AppointmentRequest,
    AuditEvent,
    Base,
    BreakGlassGrant,
    Episode,
    FollowUpPoint,
    ImportedRecord,
    MedicationWords,
    Patient,
    PatientDocument,
    PatientMerge,
    QuestionnaireLink,
    RecentPatient,
    ReminderContact,
    SignedAssessment,
    User,
    utcnow,
)
from sijcare.store.questionnaires import issue_link
from sijcare.store.recent import note_opened, set_medication_list
from tests.store.helpers import TODAY, World, make_world

SECRET = b"merge test secret"


def _twin(session: Session, world: World) -> Patient:
    """The same person registered again, with an episode full of what a merge must move."""
    original = session.get(Patient, world.patient_id)
    twin = create_patient(session, world.clinic_id, {
        "given_name": original.given_name, "family_name": original.family_name + "e",
        "birth_date": original.birth_date.isoformat(), "sex": "female"}, world.user_id)
    episode = create_episode(session, twin.id, {"complaint": "Right buttock pain",
                                                "opened_on": "2026-06-01"}, world.user_id)
    add_record(session, episode.id, "intake", {"pain_nrs": 6, "red_flags": []},
               world.user_id, TODAY)
    add_record(session, episode.id, "procedure", {
        "date": "2026-09-01", "kind": "steroid_injection", "side": "right",
        "guidance": "fluoroscopy"}, world.user_id, TODAY)
    session.flush()
    sign_assessment(session, episode.id,
                    assess(case_as_of(session, episode.id, TODAY), policy="clinic"),
                    world.user_id)
    session.commit()  # the follow-up schedule is derived as the records are committed
    point = session.scalar(select(FollowUpPoint).where(FollowUpPoint.episode_id == episode.id)
                           .order_by(FollowUpPoint.id).limit(1))
    link, _ = issue_link(session, point.id, world.user_id, SECRET)
    link.comment = "new numbness since Tuesday"
    request = create_request(session, world.clinic_id, {
        "given_name": "Ada", "family_name": "Twin", "birth_date": "1970-05-01",
        "phone": "555 0101", "consent": True})
    request.patient_id = twin.id
    session.add_all([
        ImportedRecord(clinic_id=world.clinic_id, source=f"Patient/{twin.id}", kind="patient",
                       record_id=twin.id, patient_id=twin.id),
        ReminderContact(patient_id=twin.id, email="ada@example.org")])
    session.commit()
    return twin


def _owned(session: Session, patient_id: int) -> dict[str, list[int]]:
    return {
        "episodes": sorted(session.scalars(select(Episode.id).where(
            Episode.patient_id == patient_id))),
        "requests": sorted(session.scalars(select(AppointmentRequest.id).where(
            AppointmentRequest.patient_id == patient_id))),
        "imported": sorted(session.scalars(select(ImportedRecord.id).where(
            ImportedRecord.patient_id == patient_id, ImportedRecord.record_id == patient_id))),
        "contact": sorted(session.scalars(select(ReminderContact.patient_id).where(
            ReminderContact.patient_id == patient_id))),
    }


def test_merge_moves_everything_and_unmerge_restores_exactly(session: Session,
                                                             world: World) -> None:
    twin = _twin(session, world)
    before = {p: _owned(session, p) for p in (world.patient_id, twin.id)}
    twin_episode = before[twin.id]["episodes"][0]
    merge = merge_patients(session, twin.id, world.patient_id, "same person, typo in name",
                           world.user_id)
    session.commit()
    survivor = _owned(session, world.patient_id)
    assert survivor["episodes"] == sorted([world.episode_id, twin_episode])
    assert survivor["requests"] == before[twin.id]["requests"]
    assert survivor["imported"] == before[twin.id]["imported"]
    assert survivor["contact"] == [world.patient_id]
    assert _owned(session, twin.id) == {"episodes": [], "requests": [], "imported": [],
                                        "contact": []}
    # the episode took its records, signed assessment, follow-up and the patient's comment
    moved = session.get(Episode, twin_episode)
    assert moved.patient_id == world.patient_id
    assert session.scalar(select(func.count()).select_from(SignedAssessment).where(
        SignedAssessment.episode_id == twin_episode)) == 1
    assert session.scalar(select(QuestionnaireLink.comment).where(
        QuestionnaireLink.episode_id == twin_episode)) == "new numbness since Tuesday"
    # nothing deleted: the twin is kept, marked, and hidden from lists and duplicate checks
    kept = session.get(Patient, twin.id)
    assert kept is not None and kept.merged_into_id == world.patient_id
    found, _ = search_patients(session, [world.clinic_id], kept.family_name[:5])
    assert [p.id for p in found] == [world.patient_id]
    assert twin.id not in [p.id for p in possible_duplicates(
        session, world.clinic_id, kept.given_name, kept.family_name, kept.birth_date)]
    assert [m.id for m in merges_into(session, world.patient_id)] == [merge.id]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "merge"))
    assert (event.object_id, event.detail["into"]) == (str(twin.id), world.patient_id)

    admin = create_user(session, f"admin_{twin.id}", "$argon2id$stub", "admin", []).id
    unmerge_patients(session, merge.id, "different people after all", admin)
    session.commit()
    assert _owned(session, world.patient_id) == before[world.patient_id]
    assert _owned(session, twin.id) == before[twin.id]
    assert session.get(Patient, twin.id).merged_into_id is None
    assert session.get(PatientMerge, merge.id).unmerged_by == admin
    assert merges_into(session, world.patient_id) == []
    assert [e.action for e in session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == str(twin.id), AuditEvent.action.in_(["merge", "unmerge"]))
        .order_by(AuditEvent.seq))] == ["merge", "unmerge"]
    assert verify_chain(session).ok
    with pytest.raises(RecordError, match="undone already"):
        unmerge_patients(session, merge.id, "again", admin)


def test_unmerge_refuses_a_merge_row_that_disagrees_with_the_audit_chain(
        session: Session, world: World) -> None:
    twin = _twin(session, world)
    merge = merge_patients(session, twin.id, world.patient_id, "same person", world.user_id)
    session.commit()
    session.execute(update(PatientMerge).where(PatientMerge.id == merge.id).values(
        moved={**merge.moved, "episodes": [world.episode_id]}))  # would steal the survivor's
    session.commit()
    session.expire_all()
    with pytest.raises(RecordError, match="audit chain"):
        unmerge_patients(session, merge.id, "undo", world.user_id)
    session.rollback()
    assert session.get(Episode, world.episode_id).patient_id == world.patient_id


def test_merges_that_cannot_be_are_refused_and_save_nothing(session: Session,
                                                             world: World) -> None:
    twin = _twin(session, world)
    other = make_world(session)
    for merged, into, reason, message in (
            (twin.id, twin.id, "why", "into itself"),
            (twin.id, other.patient_id, "why", "different clinics"),
            (twin.id, world.patient_id, "  ", "say why")):
        with pytest.raises(RecordError, match=message):
            merge_patients(session, merged, into, reason, world.user_id)
    merge_patients(session, twin.id, world.patient_id, "same person", world.user_id)
    third = create_patient(session, world.clinic_id, {
        "given_name": "Ada", "family_name": "Third", "birth_date": "1970-05-01",
        "sex": "female"}, world.user_id)
    with pytest.raises(RecordError, match="already merged"):
        merge_patients(session, third.id, twin.id, "same", world.user_id)
    merge_patients(session, world.patient_id, third.id, "same", world.user_id)
    session.commit()
    first = all_merges(session)[1]
    assert first.merged_id == twin.id
    with pytest.raises(RecordError, match="undo that merge first"):
        unmerge_patients(session, first.id, "undo", world.user_id)
    session.rollback()
    assert session.get(Patient, twin.id).merged_into_id == world.patient_id


def _patient_tables() -> dict[str, list[Column]]:
    """Every table with a column naming a patient (a key to `patients.id`), read from the
    schema: what a merge has to decide about."""
    found: dict[str, list[Column]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(key.column.table.name == "patients" for key in column.foreign_keys):
                found.setdefault(table.name, []).append(column)
    return found


def test_every_table_naming_a_patient_is_moved_by_a_merge_or_stays_for_a_reason() -> None:
    moved = {table.__tablename__ for _, table, _ in OWNED} | {
        table.__tablename__ for table in MOVED_WHOLE}
    tables = set(_patient_tables())
    assert tables - moved - set(STAYS) == set(), "a table naming a patient the merge forgets"
    assert moved | set(STAYS) <= tables  # nothing listed that names no patient
    assert not moved & set(STAYS)


def _words(session: Session, patient_id: int) -> tuple[str | None, str | None] | None:
    row = session.get(MedicationWords, patient_id)
    return None if row is None else (row.medication_list, row.allergy_notes)


def test_after_a_merge_nothing_points_at_the_merged_record_but_what_stays(
        session: Session, world: World) -> None:
    """The twin holds a row in every table a merge moves; afterwards, of every table naming
    a patient, only those in STAYS still name the twin."""
    twin = _twin(session, world)
    clinician = session.get(User, world.user_id)
    set_medication_list(session, world.patient_id, "apixaban 5 mg twice daily",
                        "penicillin: rash", world.user_id)
    set_medication_list(session, twin.id, "ibuprofen as needed", "", world.user_id)
    other = create_user(session, f"reader_{twin.id}", "$argon2id$stub", "clinician",
                        [world.clinic_id])
    for user_id, patient_id in ((clinician.id, twin.id), (clinician.id, world.patient_id),
                                (other.id, twin.id)):
        note_opened(session, user_id, patient_id)
    session.add_all([
        PatientDocument(patient_id=twin.id, title="MRI report", filename="mri.pdf",
                        media_type="application/pdf", size=1, sha256="0" * 64,
                        uploaded_by=world.user_id),
        BreakGlassGrant(user_id=other.id, patient_id=twin.id, reason="night call",
                        expires_at=utcnow())])
    session.commit()
    naming = _patient_tables()
    assert all(session.scalar(select(func.count()).select_from(column.table)
                              .where(column == twin.id))
               for name, columns in naming.items() if name not in STAYS
               for column in columns if column.name == "patient_id"), "the twin lacks a row"

    merge = merge_patients(session, twin.id, world.patient_id, "same person", world.user_id)
    session.commit()
    left = {name: session.scalar(select(func.count()).select_from(column.table)
                                 .where(column == twin.id))
            for name, columns in naming.items() for column in columns}
    assert {name for name, count in left.items() if count} <= set(STAYS), left
    assert _words(session, world.patient_id) == (
        "apixaban 5 mg twice daily; ibuprofen as needed", "penicillin: rash")
    assert session.scalars(select(RecentPatient.user_id).where(
        RecentPatient.patient_id == world.patient_id)).all() == sorted([clinician.id, other.id])

    admin = create_user(session, f"admin_{twin.id}", "$argon2id$stub", "admin", []).id
    unmerge_patients(session, merge.id, "different people", admin)
    session.commit()
    assert _words(session, world.patient_id) == ("apixaban 5 mg twice daily",
                                                 "penicillin: rash")
    assert _words(session, twin.id) == ("ibuprofen as needed", None)


def test_the_words_of_a_record_without_them_move_whole_and_come_back(
        session: Session, world: World) -> None:
    twin = _twin(session, world)
    set_medication_list(session, twin.id, "ibuprofen as needed", "plaster: itch", world.user_id)
    session.commit()
    merge = merge_patients(session, twin.id, world.patient_id, "same person", world.user_id)
    session.commit()
    assert _words(session, world.patient_id) == ("ibuprofen as needed", "plaster: itch")
    assert _words(session, twin.id) is None
    unmerge_patients(session, merge.id, "different people", world.user_id)
    session.commit()
    assert _words(session, world.patient_id) is None
    assert _words(session, twin.id) == ("ibuprofen as needed", "plaster: itch")


def test_words_too_long_together_refuse_the_merge_and_move_nothing(
        session: Session, world: World) -> None:
    twin = _twin(session, world)
    set_medication_list(session, world.patient_id, "a" * 1500, "", world.user_id)
    set_medication_list(session, twin.id, "b" * 1500, "", world.user_id)
    session.commit()
    before = {p: _owned(session, p) for p in (world.patient_id, twin.id)}
    with pytest.raises(RecordError, match="medication list together need more than 2000"):
        merge_patients(session, twin.id, world.patient_id, "same person", world.user_id)
    session.rollback()
    assert {p: _owned(session, p) for p in (world.patient_id, twin.id)} == before
    assert _words(session, twin.id) == ("b" * 1500, None)

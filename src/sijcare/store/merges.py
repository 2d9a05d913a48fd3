"""Two records of one person made one, and undone.

A merge moves everything the duplicate holds to the surviving record: its episodes (and with
them every dated record, follow-up point, questionnaire link with the patient's comments,
signed assessment and note), its appointment requests, imported-record links and documents,
its reminder contact when the survivor has none, its medication list and allergies in words
(joined to the survivor's, so the survivor's banner shows both), and each user's
recent-patients entry. Nothing of the record is deleted: the duplicate stays, marked
`merged_into_id`, hidden from lists. What moved is kept on the merge row and in the merge's
audit entry (by id; the words as they were); an admin's unmerge restores exactly that, after
checking the two agree, and is itself appended to the audit chain.

Every table naming a patient is either moved here or listed in `STAYS` with why (a test reads
the schema, so a new table cannot be forgotten).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import (
    AppointmentRequest,
    AuditEvent,
    Episode,
    ImportedRecord,
    MedicationWords,
    Patient,
    PatientDocument,
    PatientMerge,
    RecentPatient,
    ReminderContact,
    utcnow,
)
from sijcare.store.plausible import CONTROL_PROBLEM, control_characters
from sijcare.store.recent import LIMITS
from sijcare.store.users import require_member

# What belongs to a patient by its `patient_id`: (name in `moved`, table, its id column).
OWNED: tuple[tuple[str, Any, Any], ...] = (
    ("episodes", Episode, Episode.id),
    ("appointment_requests", AppointmentRequest, AppointmentRequest.id),
    ("imported_records", ImportedRecord, ImportedRecord.id),
    ("patient_documents", PatientDocument, PatientDocument.id),
)
IMPORTED_PATIENT = "imported_patient"  # links naming the patient itself (`record_id`)
REMINDER_CONTACT = "reminder_contact"
MEDICATION_WORDS = "medication_words"  # {"survivor": words or None, "merged": words}
# moved too, by the merge itself: one row per patient, or per user and patient
MOVED_WHOLE = (ReminderContact, MedicationWords, RecentPatient)
# Tables naming a patient whose rows stay with the merged record, and why.
STAYS = {
    "patient_corrections": "corrections of the merged record's own name and details, which "
                           "stay on it",
    "break_glass_grants": "emergency access given to that record only: moved, it would open "
                          "the survivor's records",
    "patient_merges": "the merges themselves",
}


def _reason(reason: object, field: str, what: str) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise RecordError([(field, f"say why {what}")])
    if len(text) > 200:
        raise RecordError([(field, "at most 200 characters")])
    if control_characters(text):
        raise RecordError([(field, CONTROL_PROBLEM)])
    return text


def _patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    return patient


def merge_problem(merged: Patient, survivor: Patient) -> str | None:
    """Why `merged` cannot be merged into `survivor`, or None."""
    if merged.id == survivor.id:
        return "a record cannot be merged into itself"
    if merged.clinic_id != survivor.clinic_id:
        return "the two records belong to different clinics"
    for patient in (merged, survivor):
        if patient.merged_into_id is not None:
            return f"record #{patient.id} was already merged into #{patient.merged_into_id}"
    return None


def merge_patients(session: Session, merged_id: int, survivor_id: int, reason: object,
                   actor_id: int) -> PatientMerge:
    """Move everything of `merged_id` to `survivor_id` (same clinic, neither merged already);
    audited. RecordError, saving nothing, when the two cannot be merged."""
    text = _reason(reason, "reason", "the two records are one person")
    merged, survivor = _patient(session, merged_id), _patient(session, survivor_id)
    if problem := merge_problem(merged, survivor):
        raise RecordError([("", problem)])
    require_member(session, actor_id, merged.clinic_id)
    words = _join_words(session, merged.id, survivor.id, actor_id)  # refused before any move
    moved: dict[str, Any] = {}
    for name, table, id_column in OWNED:
        ids = sorted(session.scalars(select(id_column).where(table.patient_id == merged.id)))
        session.execute(update(table).where(id_column.in_(ids))
                        .values(patient_id=survivor.id).execution_options(
                            synchronize_session=False))
        moved[name] = ids
    naming = sorted(session.scalars(select(ImportedRecord.id).where(
        ImportedRecord.kind == "patient", ImportedRecord.record_id == merged.id)))
    session.execute(update(ImportedRecord).where(ImportedRecord.id.in_(naming))
                    .values(record_id=survivor.id).execution_options(synchronize_session=False))
    moved[IMPORTED_PATIENT] = naming
    contact = session.get(ReminderContact, merged.id)
    moved[REMINDER_CONTACT] = []
    if contact is not None and session.get(ReminderContact, survivor.id) is None:
        contact.patient_id = survivor.id
        moved[REMINDER_CONTACT] = [merged.id]
    if words is not None:
        moved[MEDICATION_WORDS] = words
    _move_recent(session, merged.id, survivor.id)
    merged.merged_into_id = survivor.id
    merge = PatientMerge(clinic_id=merged.clinic_id, survivor_id=survivor.id,
                         merged_id=merged.id, reason=text, moved=moved, merged_by=actor_id)
    session.add(merge)
    session.flush()
    session.expire_all()  # the moved rows were updated in SQL: reload what was cached
    record_event(session, actor_id, "merge", "patient", merged_id, merge.clinic_id,
                 {"merge": merge.id, "into": survivor_id, "moved": moved})
    return merge


def _words(row: MedicationWords | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {**{name: getattr(row, name) for name in LIMITS}, "updated_by": row.updated_by,
            "updated_at": row.updated_at.isoformat()}


def _joined(first: str | None, second: str | None) -> str | None:
    return "; ".join(dict.fromkeys(text for text in (first, second) if text)) or None


def _join_words(session: Session, merged_id: int, survivor_id: int,
                actor_id: int) -> dict[str, Any] | None:
    """The merged record's medication list and allergies in words joined to the survivor's
    (its row moved when the survivor has none); what both were, for the unmerge. RecordError,
    before anything moved, when the two together are longer than one list may be."""
    theirs = session.get(MedicationWords, merged_id)
    if theirs is None:
        return None
    ours = session.get(MedicationWords, survivor_id)
    before = {"survivor": _words(ours), "merged": _words(theirs)}
    if ours is None:
        session.execute(update(MedicationWords).where(MedicationWords.patient_id == merged_id)
                        .values(patient_id=survivor_id)
                        .execution_options(synchronize_session=False))
        return before
    joined = {name: _joined(getattr(ours, name), getattr(theirs, name)) for name in LIMITS}
    if problems := [(name, f"the two records' {name.replace('_', ' ')} together need more "
                           f"than {limit} characters: shorten one before merging")
                    for name, limit in LIMITS.items() if len(joined[name] or "") > limit]:
        raise RecordError(problems)
    for name, text in joined.items():
        setattr(ours, name, text)
    ours.updated_by, ours.updated_at = actor_id, utcnow()
    session.delete(theirs)  # its words are on the merge row, for the unmerge
    return before


def _restore_words(session: Session, before: dict[str, Any], survivor_id: int,
                   merged_id: int) -> None:
    """The merged record's words as they were, and the survivor's, unless edited since."""
    ours = session.get(MedicationWords, survivor_id)
    kept = before["survivor"]
    left = {name: _joined(kept[name] if kept else None, before["merged"][name])
            for name in LIMITS}  # what the merge left on the survivor
    if ours is not None and {name: getattr(ours, name) for name in LIMITS} == left:
        if kept is None:
            session.delete(ours)
        else:
            _set_words(ours, kept)
    session.flush()
    session.add(_set_words(MedicationWords(patient_id=merged_id), before["merged"]))


def _set_words(row: MedicationWords, words: dict[str, Any]) -> MedicationWords:
    for name in LIMITS:
        setattr(row, name, words[name])
    row.updated_by = words["updated_by"]
    row.updated_at = dt.datetime.fromisoformat(words["updated_at"])
    return row


def _move_recent(session: Session, merged_id: int, survivor_id: int) -> None:
    """Each user's recent-patients entry for the merged record becomes the survivor's (one
    entry per user: where the user has the survivor's already, that one stays)."""
    has_survivor = select(RecentPatient.user_id).where(RecentPatient.patient_id == survivor_id)
    session.execute(delete(RecentPatient).where(RecentPatient.patient_id == merged_id,
                                                RecentPatient.user_id.in_(has_survivor)))
    session.execute(update(RecentPatient).where(RecentPatient.patient_id == merged_id)
                    .values(patient_id=survivor_id).execution_options(synchronize_session=False))


def _audited_moves(session: Session, merge: PatientMerge) -> dict[str, list[int]] | None:
    """What the merge's own entry in the audit chain says moved."""
    for detail in session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "merge", AuditEvent.object_type == "patient",
            AuditEvent.object_id == str(merge.merged_id))):
        if detail and detail.get("merge") == merge.id:
            return detail.get("moved")
    return None


def unmerge_patients(session: Session, merge_id: int, reason: object,
                     actor_id: int) -> PatientMerge:
    """Undo a merge: what it moved goes back to the merged record, which is listed again;
    audited. Refused when a later merge of the survivor would have to be undone first."""
    text = _reason(reason, "reason", "the merge is undone")
    merge = session.get(PatientMerge, merge_id)
    if merge is None:
        raise NotFound(f"no merge {merge_id}")
    if merge.unmerged_at is not None:
        raise RecordError([("", "this merge was undone already")])
    survivor, merged = _patient(session, merge.survivor_id), _patient(session, merge.merged_id)
    if survivor.merged_into_id is not None:
        raise RecordError([("", f"record #{survivor.id} was merged into "
                                f"#{survivor.merged_into_id} since: undo that merge first")])
    moved = merge.moved
    if _audited_moves(session, merge) != moved:
        raise RecordError([("", "what this merge recorded does not match its entry in the "
                                "audit chain; nothing was changed")])
    for name, table, id_column in OWNED:
        session.execute(update(table).where(id_column.in_(moved.get(name, [])),
                                            table.patient_id == survivor.id)
                        .values(patient_id=merged.id)
                        .execution_options(synchronize_session=False))
    session.execute(update(ImportedRecord).where(
        ImportedRecord.id.in_(moved[IMPORTED_PATIENT]),
        ImportedRecord.record_id == survivor.id)
        .values(record_id=merged.id).execution_options(synchronize_session=False))
    if moved[REMINDER_CONTACT]:
        session.execute(update(ReminderContact).where(ReminderContact.patient_id == survivor.id)
                        .values(patient_id=merged.id)
                        .execution_options(synchronize_session=False))
    if MEDICATION_WORDS in moved:
        _restore_words(session, moved[MEDICATION_WORDS], survivor.id, merged.id)
    merged.merged_into_id = None
    merge.unmerged_by, merge.unmerged_at, merge.unmerge_reason = actor_id, utcnow(), text
    session.flush()
    session.expire_all()
    record_event(session, actor_id, "unmerge", "patient", merge.merged_id, merge.clinic_id,
                 {"merge": merge.id, "from": merge.survivor_id, "restored": moved})
    return merge


def merges_into(session: Session, patient_id: int) -> list[PatientMerge]:
    """The records merged into this one and not unmerged, oldest first."""
    return list(session.scalars(select(PatientMerge).where(
        PatientMerge.survivor_id == patient_id, PatientMerge.unmerged_at.is_(None))
        .order_by(PatientMerge.id)))


def all_merges(session: Session, limit: int = 200) -> list[PatientMerge]:
    """The latest merges, newest first, for the admins' page."""
    return list(session.scalars(select(PatientMerge).order_by(PatientMerge.id.desc())
                                .limit(limit)))

"""The store: the clinic's patients, episodes and dated records, signed assessments, audit log.

SQLite file by default, PostgreSQL by URL (`SIJCARE_DATABASE_URL`); the schema is Alembic's
(`upgrade(engine)`). Every write is validated by the engine's own models first and raises
`RecordError` with field paths, saving nothing. Functions flush but never commit: the caller
owns the transaction, so a record and its audit entry are committed (or rolled back) together.
Reads are not audited here, since only the caller knows who reads: log them with
`record_event(session, user_id, "read", "patient", patient_id, clinic_id)`.
"""

from sijcare.store.audit import AuditReport, record_event, record_export, verify_chain
from sijcare.store.backup import BackupError, backup, restore
from sijcare.store.cases import case_as_of
from sijcare.store.db import database_url, make_engine, session_factory, upgrade
from sijcare.store.demo import load_demo
from sijcare.store.episode_records import EpisodeRecords, TimelineEntry, load_episode_records
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.follow_up import WorkItem, refresh_schedule, status_on, worklist
from sijcare.store.models import (
    AuditEvent,
    Base,
    BlockDiaryEntry,
    BlockRecord,
    CareCourseRecord,
    Clinic,
    Episode,
    EpisodeNote,
    ExamRecord,
    ImagingRecord,
    IntakeRecord,
    MedicationsRecord,
    Membership,
    NoneRecord,
    Patient,
    PatientCorrection,
    ProcedureRecord,
    PromAnswer,
    PromRecord,
    ProvocationResult,
    SignedAssessment,
    User,
)
from sijcare.store.notes import add_note
from sijcare.store.patients import (
    close_episode,
    correct_patient,
    corrections_of,
    create_episode,
    create_patient,
    get_episode,
    get_patient,
    reopen_episode,
    search_patients,
)
from sijcare.store.records import (
    RECORD_KINDS,
    VOIDABLE_KINDS,
    add_record,
    list_timeline,
    void_record,
)
from sijcare.store.signing import seal_intact, sign_assessment
from sijcare.store.synthetic import generate_synthetic
from sijcare.store.treatment_stages import refresh_stages
from sijcare.store.users import (
    change_password,
    create_clinic,
    create_user,
    get_user_by_username,
    reset_password,
    set_active,
    set_time_zone,
)

__all__ = [
    "RECORD_KINDS",
    "VOIDABLE_KINDS",
    "AuditEvent",
    "AuditReport",
    "BackupError",
    "Base",
    "BlockDiaryEntry",
    "BlockRecord",
    "CareCourseRecord",
    "Clinic",
    "Episode",
    "EpisodeNote",
    "EpisodeRecords",
    "ExamRecord",
    "ImagingRecord",
    "IntakeRecord",
    "MedicationsRecord",
    "Membership",
    "NoneRecord",
    "NotFound",
    "Patient",
    "PatientCorrection",
    "ProcedureRecord",
    "PromAnswer",
    "PromRecord",
    "ProvocationResult",
    "RecordError",
    "SignedAssessment",
    "TimelineEntry",
    "User",
    "WorkItem",
    "add_note",
    "add_record",
    "backup",
    "case_as_of",
    "change_password",
    "close_episode",
    "correct_patient",
    "corrections_of",
    "create_clinic",
    "create_episode",
    "create_patient",
    "create_user",
    "database_url",
    "generate_synthetic",
    "get_episode",
    "get_patient",
    "get_user_by_username",
    "list_timeline",
    "load_demo",
    "load_episode_records",
    "make_engine",
    "record_event",
    "record_export",
    "refresh_schedule",
    "refresh_stages",
    "reopen_episode",
    "reset_password",
    "restore",
    "seal_intact",
    "search_patients",
    "session_factory",
    "set_active",
    "set_time_zone",
    "sign_assessment",
    "status_on",
    "upgrade",
    "verify_chain",
    "void_record",
    "worklist",
]

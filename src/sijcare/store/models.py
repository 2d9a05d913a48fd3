"""The clinic's tables: organisation, patients, episodes, dated records, signatures, audit.

Every clinical fact has its own typed column so outcome analytics can run in SQL. Lists of
codes (red flags, findings, allergies...) are JSON lists because the engine must tell *not
recorded* (SQL NULL) from *recorded as none* (`[]`), which child rows cannot express.
Timestamps are naive UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    """Naive UTC, microsecond precision: the same value on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# Ids are 32-bit INTEGER columns on PostgreSQL: an id past this never names a row, and binding
# one (or 2^63 on SQLite) fails in the driver, so the edges refuse it first.
MAX_ROW_ID = 2**31 - 1

Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's declarative hook
        str: String(200),
        list[str]: Json,
        dict[str, Any]: Json,
    }


# -- organisation ----------------------------------------------------------------------------


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # IANA zone the clinic's pages show times in (stored times stay UTC).
    time_zone: Mapped[str] = mapped_column(String(60), default="UTC", server_default="UTC")
    # The clinic's clinicians must sign in with a second factor (admins always must).
    second_factor_required: Mapped[bool] = mapped_column(default=False,
                                                         server_default=false())


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set by an admin's password reset: the user must choose a new one at next sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where security notices go (lockout, password reset, a new device); optional.
    email: Mapped[str | None] = mapped_column(String(254))
    # A clinician account an admin created waits for a second admin before it reads patients.
    created_by: Mapped[int | None]  # the admin who created it (no key: users stay)
    approval_pending: Mapped[bool] = mapped_column(default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin")
    # read when used (a table of its own since 0015, so older migrations never touch it)
    # joined to the user, so a template naming a signer never reads the database
    profile: Mapped[UserProfile | None] = relationship(lazy="joined", uselist=False)


class UserProfile(Base):
    """How signed notes name a user ("Dr Ana Ruiz", "MD, FIPP") and when they last signed in."""

    __tablename__ = "user_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    full_name: Mapped[str | None] = mapped_column(String(120))
    credentials: Mapped[str | None] = mapped_column(String(120))
    last_sign_in_at: Mapped[dt.datetime | None]


class Membership(Base):
    """A user works in a clinic and may see its patients."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")


# -- patients and episodes ---------------------------------------------------------------------


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("clinic_id", "external_id"),
        Index("ix_patients_clinic_family", "clinic_id", "family_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    external_id: Mapped[str | None] = mapped_column(String(120))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date]
    sex: Mapped[str] = mapped_column(String(10))
    demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payer: Mapped[str | None] = mapped_column(String(60))  # a policy id: the default policy
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    # Set when this record was merged into another of the same person (`store/merges.py`):
    # kept, hidden from lists, its page pointing there. No key, so the column drops in place.
    merged_into_id: Mapped[int | None]

    clinic: Mapped[Clinic] = relationship()
    episodes: Mapped[list[Episode]] = relationship(
        back_populates="patient", order_by="Episode.opened_on")
    # a table of its own (older migrations never touch it), joined to the patient, so a
    # page's template never reads the database while it renders (the banner)
    medication_words: Mapped[MedicationWords | None] = relationship(lazy="joined",
                                                                    uselist=False)


class MedicationWords(Base):
    """What the patient takes and is allergic to, in the clinician's words, beside the coded
    allergies and anticoagulant of the medications record, which the engine reads."""

    __tablename__ = "patient_medication_words"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    medication_list: Mapped[str | None] = mapped_column(String(2000))
    allergy_notes: Mapped[str | None] = mapped_column(String(500))
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Episode(Base):
    """One complaint followed over time; the unit a `Case` is built from."""

    __tablename__ = "episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    complaint: Mapped[str]
    opened_on: Mapped[dt.date]
    closed_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    patient: Mapped[Patient] = relationship(back_populates="episodes")


class PatientCorrection(Base):
    """A corrected demographic: the value it replaced is kept, with who and why."""

    __tablename__ = "patient_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    field: Mapped[str] = mapped_column(String(30))
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(200))
    corrected_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    corrected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PatientMerge(Base):
    """Two records of one person made one: what moved from `merged_id` to `survivor_id`
    (`moved`: ids per kind), so that an admin's unmerge restores exactly that."""

    __tablename__ = "patient_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    survivor_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    moved: Mapped[dict[str, Any]]
    merged_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    unmerged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unmerged_at: Mapped[dt.datetime | None]
    unmerge_reason: Mapped[str | None] = mapped_column(String(200))


class EpisodeNote(Base):
    """A free-text clinical note on the episode's timeline; never part of the engine's case."""

    __tablename__ = "episode_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    recorded_on: Mapped[dt.date]
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(String(4000))


# -- dated records of an episode ---------------------------------------------------------------


class RecordRow(Base):
    """Columns every dated record shares: whose episode, entered when and by whom."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-4)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True, sort_order=-3)
    recorded_on: Mapped[dt.date] = mapped_column(sort_order=-2)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), sort_order=-1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, sort_order=-1)
    # "Entered in error" (FHIR `entered-in-error`): never deleted, only left out of the case
    # from `voided_on` on; see `records.void_record`.
    voided_on: Mapped[dt.date | None]
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(String(200))


class IntakeRecord(RecordRow):
    """The history taken at intake; `area_*` are the pain-map shares in percent."""

    __tablename__ = "intakes"

    pain_onset: Mapped[dt.date | None]
    pain_duration_months: Mapped[float | None]
    pain_nrs: Mapped[float | None]
    side: Mapped[str | None] = mapped_column(String(10))
    area_axial_low_back: Mapped[float | None]
    area_sij_region: Mapped[float | None]
    area_buttock_leg: Mapped[float | None]
    area_groin_anterior_thigh: Mapped[float | None]
    below_l5: Mapped[bool | None]
    below_knee: Mapped[bool | None]
    fortin_finger: Mapped[bool | None]
    aggravating: Mapped[list[str] | None]
    relieving: Mapped[list[str] | None]
    onset: Mapped[str | None] = mapped_column(String(30))
    red_flags: Mapped[list[str] | None]
    spa_features: Mapped[list[str] | None]
    generalized_pain_disorder: Mapped[bool | None]
    pregnant: Mapped[bool | None]


class ExamRecord(RecordRow):
    """A physical examination; `tender_*` are palpation findings, tests are child rows."""

    __tablename__ = "exams"

    straight_leg_raise: Mapped[str | None] = mapped_column(String(10))
    neuro_deficit: Mapped[bool | None]
    hip_rotation_pain: Mapped[bool | None]
    tender_psis: Mapped[bool | None]
    tender_long_posterior_sacroiliac_ligament: Mapped[bool | None]
    tender_sacrotuberous_ligament: Mapped[bool | None]
    tender_sacral_sulcus: Mapped[bool | None]

    provocation: Mapped[list[ProvocationResult]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProvocationResult.test")


class ProvocationResult(Base):
    """One provocation test performed: result, side, and whether it was the familiar pain."""

    __tablename__ = "exam_provocations"
    __table_args__ = (UniqueConstraint("exam_id", "test"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    test: Mapped[str] = mapped_column(String(30))
    result: Mapped[str] = mapped_column(String(10))
    side: Mapped[str | None] = mapped_column(String(10))
    familiar_pain: Mapped[bool | None]


class ImagingRecord(RecordRow):
    __tablename__ = "imaging"

    date: Mapped[dt.date]
    modality: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(20))
    findings: Mapped[list[str] | None]
    excludes_other_causes: Mapped[bool | None]


class CareCourseRecord(RecordRow):
    """A course of conservative care; `end` NULL means ongoing."""

    __tablename__ = "care_courses"

    type: Mapped[str] = mapped_column(String(60))
    start: Mapped[dt.date]
    end: Mapped[dt.date | None]


class BlockRecord(RecordRow):
    """A diagnostic block; its pain is the diary (child rows), never a stored summary."""

    __tablename__ = "blocks"

    date: Mapped[dt.date]
    side: Mapped[str | None] = mapped_column(String(10))
    target: Mapped[str | None] = mapped_column(String(30))
    guidance: Mapped[str] = mapped_column(String(20))
    contrast: Mapped[bool | None]
    agent: Mapped[str | None] = mapped_column(String(60))

    diary: Mapped[list[BlockDiaryEntry]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="BlockDiaryEntry.minutes")


class BlockDiaryEntry(Base):
    """A timed pain rating after a block; minutes 0 is the baseline."""

    __tablename__ = "block_diary"
    __table_args__ = (UniqueConstraint("block_id", "minutes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"), index=True)
    minutes: Mapped[int]
    pain: Mapped[float]


class ProcedureRecord(RecordRow):
    __tablename__ = "procedures"

    date: Mapped[dt.date]
    kind: Mapped[str] = mapped_column(String(30))
    side: Mapped[str | None] = mapped_column(String(10))
    guidance: Mapped[str | None] = mapped_column(String(20))
    injectate: Mapped[str | None]
    complications: Mapped[list[str] | None]
    # The engine's stage when it was decided on, derived (store/treatment_stages.py): the
    # registry filters by it.
    stage_at_treatment: Mapped[str | None] = mapped_column(String(40))
    # Relief is not a column here: it is followed up over time in `procedure_outcomes`.

    outcomes: Mapped[list[ProcedureOutcome]] = relationship(
        lazy="raise", order_by="ProcedureOutcome.date")


class PromRecord(RecordRow):
    """A questionnaire: `value` for NRS/PGIC, answer rows for the ODI."""

    __tablename__ = "proms"

    date: Mapped[dt.date]
    instrument: Mapped[str] = mapped_column(String(10))
    value: Mapped[float | None]
    patient_reported: Mapped[bool] = mapped_column(default=False)  # answered by link

    answers: Mapped[list[PromAnswer]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PromAnswer.section")


class PromAnswer(Base):
    """One ODI section (1-10); `answer` NULL means the section was left unanswered."""

    __tablename__ = "prom_answers"
    __table_args__ = (UniqueConstraint("prom_id", "section"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prom_id: Mapped[int] = mapped_column(ForeignKey("proms.id", ondelete="CASCADE"), index=True)
    section: Mapped[int]
    answer: Mapped[int | None]


class MedicationsRecord(RecordRow):
    """Medication reconciliation: what matters to the engine, plus allergies."""

    __tablename__ = "medications"

    anticoagulant: Mapped[bool | None]
    anticoagulant_plan: Mapped[bool | None]  # a peri-procedural plan agreed (migration 0010)
    allergies: Mapped[list[str] | None]


class NoneRecord(RecordRow):
    """The clinician confirmed there is none of `kind` (e.g. no imaging): a fact, not a gap."""

    __tablename__ = "none_records"

    kind: Mapped[str] = mapped_column(String(20))


# -- signatures and audit ----------------------------------------------------------------------


class SignedAssessment(Base):
    """An assessment exactly as a clinician signed it, sealed by the sha256 of the snapshot."""

    __tablename__ = "signed_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    as_of: Mapped[dt.date]
    policy: Mapped[str] = mapped_column(String(60))
    knowledge_version: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40))
    assessment: Mapped[dict[str, Any]]
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[dt.datetime]
    # the seal: an HMAC under the audit key (seal_version 2), or, for assessments signed
    # before seals were keyed, the snapshot's plain sha256 (seal_version 1)
    sha256: Mapped[str] = mapped_column(String(64))
    seal_version: Mapped[int] = mapped_column(default=2, server_default="1")

    signer: Mapped[User] = relationship(lazy="joined")  # named on every signature shown


class AssessmentAddendum(Base):
    """A signed addition to a signed assessment: the original is never edited; the addendum is
    sealed like it (sha256 of its text, the assessment it amends, signer and time)."""

    __tablename__ = "assessment_addenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    signed_assessment_id: Mapped[int] = mapped_column(ForeignKey("signed_assessments.id"),
                                                      index=True)
    text: Mapped[str] = mapped_column(String(4000))
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[dt.datetime]
    sha256: Mapped[str] = mapped_column(String(64))

    signer: Mapped[User] = relationship(lazy="joined")


class PatientDocument(Base):
    """A file on a patient (an imaging report, a referral letter). The bytes live in the
    private data directory under their sha256 (`store/documents.py`), never in the web root."""

    __tablename__ = "patient_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RecentPatient(Base):
    """The patients a user opened last, for the header's "recent patients"."""

    __tablename__ = "recent_patients"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    viewed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class AuditEvent(Base):
    """One entry of the append-only audit chain; no foreign keys, so nothing can cascade into it."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    clinic_id: Mapped[int | None]
    detail: Mapped[dict[str, Any] | None]
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row naming the chain's last entry; locking it serialises appends."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    keyed_from: Mapped[int | None]  # the first entry hashed with the audit key
    seal: Mapped[str | None] = mapped_column(String(64))  # HMAC of seq, hash and keyed_from


class IdempotentRequest(Base):
    """A JSON API write sent with an `Idempotency-Key`: claimed in the write's own transaction
    and holding its answer, so a retry gets the same answer instead of a second record."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("actor_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(index=True)


# -- sign-ins (web) --------------------------------------------------------------------------


class WebSession(Base):
    """A signed-in browser, kept in the database so that signing out, an idle timeout, a
    password change or a disabled account ends it in every server process, restarts included.

    Only a hash of the cookie's token is stored; a row that is gone is a session that ended.
    Times are seconds since the epoch, from the web app's (injectable) clock.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_fingerprint: Mapped[str] = mapped_column(String(16))
    signed_in_at: Mapped[float]
    last_seen: Mapped[float] = mapped_column(index=True)
    # When the user last proved who they are (password, and code if enrolled): admin actions
    # ask again after a while. NULL: at sign-in.
    verified_at: Mapped[float | None]


class SecondFactor(Base):
    """A user's TOTP secret (RFC 6238). `enrolled_at` is set once the user has typed a first
    right code; `last_step` is the last time step accepted, so a code is never used twice."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    enrolled_at: Mapped[dt.datetime | None]
    last_step: Mapped[int | None]


class RecoveryCode(Base):
    """A one-time code for a user who lost the authenticator; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None]


class KnownDevice(Base):
    """A browser a user signed in from (a long-lived cookie id, stored as its SHA-256), so a
    sign-in from any other is announced to the user."""

    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("user_id", "device_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BreakGlassGrant(Base):
    """Emergency read access of a clinician to a patient of a clinic they do not belong to:
    time-limited, with a reason, audited and reported to the admins."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (Index("ix_break_glass_grants_user_patient", "user_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


class KeptEntries(Base):
    """A form submitted after its session ended: sealed by the web app, for the user who typed
    it, until it is saved after signing in again or `expires_at` passes. Only a hash of the
    token the browser holds is stored; times are seconds, from the web app's clock."""

    __tablename__ = "kept_entries"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    sealed: Mapped[str] = mapped_column(Text)
    kept_at: Mapped[float]
    expires_at: Mapped[float]


class SignInFailure(Base):
    """One failed sign-in, for the throttle of every server process."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[float] = mapped_column(index=True)
# -- follow-up ---------------------------------------------------------------------------------


class ProcedureOutcome(RecordRow):
    """How a procedure worked out, as found at one follow-up (several per procedure over time).

    `relief_percent` is derived from `nrs_before` and `nrs_after` when both are given, else it
    is as entered; `complications` are codes of `store/complications.yaml` (`[]`: none).
    """

    __tablename__ = "procedure_outcomes"

    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    date: Mapped[dt.date]
    nrs_before: Mapped[float | None]
    nrs_after: Mapped[float | None]
    relief_percent: Mapped[float | None]
    relief_weeks: Mapped[float | None]
    relief_ongoing: Mapped[bool | None]
    pgic: Mapped[int | None]
    complications: Mapped[list[str] | None]


class FollowUpPoint(Base):
    """One point of an episode's follow-up schedule, re-derived from the engine whenever the
    episode's records change (see `store/follow_up.py`); `done` is as of that derivation, the
    other statuses follow from the window and today's date at read time."""

    __tablename__ = "follow_up_points"
    __table_args__ = (
        UniqueConstraint("episode_id", "key"),
        Index("ix_follow_up_points_clinic_due", "clinic_id", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    key: Mapped[str] = mapped_column(String(40))  # "6m", or "2w:<procedure id>"
    point: Mapped[str] = mapped_column(String(10))
    anchor: Mapped[str] = mapped_column(String(20))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    procedure_date: Mapped[dt.date | None]
    procedure_kind: Mapped[str | None] = mapped_column(String(30))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due: Mapped[dt.date]
    window_from: Mapped[dt.date]
    window_to: Mapped[dt.date]
    instruments: Mapped[list[str]]
    done: Mapped[bool] = mapped_column(default=False)
    # "early" or "late": done by answers given by link outside the window (migration 0016)
    answered_timing: Mapped[str | None] = mapped_column(String(10))
    derived_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QuestionnaireLink(Base):
    """A single-use link sent to a patient for one follow-up point; only its hash is kept."""

    __tablename__ = "questionnaire_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    point_key: Mapped[str] = mapped_column(String(40))
    point: Mapped[str] = mapped_column(String(10))
    instruments: Mapped[list[str]]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]  # a newer link for the same point replaced it
    comment: Mapped[str | None] = mapped_column(String(1000))  # the patient's own words
    # "early" or "late": answered before or after the point's window (migration 0016)
    answered_timing: Mapped[str | None] = mapped_column(String(10))
    outbox_id: Mapped[int | None]  # the email that carried it (no key: the outbox is pruned)


class ReminderContact(Base):
    """Where a patient's follow-up reminders go, and whether they asked for none."""

    __tablename__ = "reminder_contacts"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    opted_out_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FollowUpReminder(Base):
    """A reminder queued for a point (one per point per `SIJCARE_REMINDER_DAYS` at most)."""

    __tablename__ = "follow_up_reminders"
    __table_args__ = (Index("ix_follow_up_reminders_point", "episode_id", "point_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    point_key: Mapped[str] = mapped_column(String(40))
    link_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_links.id"))
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- the patient side: appointment requests, outgoing email, newsletter -----------------------


class AppointmentRequest(Base):
    """A member of the public asked the clinic for an appointment (consent given to store it).

    The self-screen answers and result travel with it when the request came after the
    screen; only the clinic's staff and clinicians may read them (`web/clinic/inbox.py`).
    """

    __tablename__ = "appointment_requests"
    __table_args__ = (Index("ix_appointment_requests_clinic_status", "clinic_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date]
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_times: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[dt.datetime]
    screen_answers: Mapped[dict[str, Any] | None]
    screen_result: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(20), default="new")
    status_changed_at: Mapped[dt.datetime | None]
    status_changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # the email confirming the request (no key: the outbox is pruned), or True when a
    # confirmation limit held it back (`notify.confirmations`); both None with no email, or
    # for a request older than migration 0018 whose mail was not found
    confirmation_outbox_id: Mapped[int | None]
    confirmation_withheld: Mapped[bool | None]


class OutboxEmail(Base):
    """An email waiting to go out, or its delivery history: kept so that a failing SMTP server
    delays mail instead of losing it (`sijcare.notify`)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class NewsletterSubscription(Base):
    """An address asked for the newsletter; it receives nothing until `confirmed_at` is set
    (double opt-in) and nothing after `unsubscribed_at`."""

    __tablename__ = "newsletter_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[dt.datetime | None]
    unsubscribed_at: Mapped[dt.datetime | None]


class PublicFormAttempt(Base):
    """One submission of a public form, by a keyed hash of the sender's address: the rate
    limit holds across server processes and no address is stored in the clear."""

    __tablename__ = "public_form_attempts"
    __table_args__ = (Index("ix_public_form_attempts_key", "form", "address_key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(30))
    address_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SpentFormToken(Base):
    """A public form's start token that was sent once: sent again, it is a replay. Only its
    sha256 is kept, and only while the token could still be accepted."""

    __tablename__ = "spent_form_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_at: Mapped[dt.datetime] = mapped_column(index=True)


class ConfirmationMail(Base):
    """A confirmation mail queued because a visitor typed an address (newsletter sign-up,
    appointment request), by keyed hashes of the recipient and of the sender's address: the
    limits on both hold across server processes, and no address is stored in the clear."""

    __tablename__ = "confirmation_mails"
    __table_args__ = (Index("ix_confirmation_mails_recipient", "recipient_key", "at"),
                      Index("ix_confirmation_mails_sender", "sender_key", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient_key: Mapped[str] = mapped_column(String(64))
    sender_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ImportedRecord(Base):
    """Where a patient, episode or record came from when it was imported (FHIR), and whether a
    clinician has reviewed it. `source` names the resource in the sending system (its type and
    id, or its identifier), so importing the same file again finds it and changes nothing.
    `kind` is "patient", "episode" or a record kind; `review` is "unreviewed", "accepted" or
    "rejected" (a rejected record is also marked entered in error)."""

    __tablename__ = "imported_records"
    __table_args__ = (UniqueConstraint("clinic_id", "source"),
                      Index("ix_imported_records_episode", "episode_id", "review"))

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    source: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[int]
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id"))
    review: Mapped[str] = mapped_column(String(12), default="unreviewed")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None]
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# -- CDS Hooks --------------------------------------------------------------------------------


class CdsTokenId(Base):
    """A CDS Hooks JWT's `jti`, kept until the token expires so a replay is refused in every
    server process; only a hash of issuer and jti is kept."""

    __tablename__ = "cds_token_ids"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class CdsFeedback(Base):
    """What a clinician in the EHR did with one card: accepted it, or overrode it and why.
    `rule` and `stop` come from the card's audit entry (what the card said), `ehr_user` is
    the EHR's user the card was shown to."""

    __tablename__ = "cds_feedback"
    __table_args__ = (Index("ix_cds_feedback_rule", "rule", "outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(60))
    card: Mapped[str] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    outcome_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issuer: Mapped[str] = mapped_column(String(300))
    rule: Mapped[str | None] = mapped_column(String(100))
    stop: Mapped[str | None] = mapped_column(String(100))
    ehr_user: Mapped[str | None] = mapped_column(String(200))
    reason_system: Mapped[str | None] = mapped_column(String(300))
    reason_code: Mapped[str | None] = mapped_column(String(100))
    reason_display: Mapped[str | None] = mapped_column(String(300))
    comment: Mapped[str | None] = mapped_column(Text)
    accepted_suggestions: Mapped[list[str] | None]


class SmartLaunch(Base):
    """A SMART launch on its way through the EHR's authorization server: the PKCE verifier
    stays here, server-side, keyed by a hash of the `state` the browser carries; the row is
    spent by the callback and useless after ten minutes."""

    __tablename__ = "smart_launches"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(index=True)

"""The initial schema: organisation, patients, episodes, dated records, signatures, audit.

The audit table is made append-only by triggers on both backends; the chain head starts at
entry 0 with an all-zero hash.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
GENESIS = "0" * 64

POSTGRESQL_APPEND_ONLY = [
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$""",
    """CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]
SQLITE_APPEND_ONLY = [
    f"""CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]

# Parents before children; downgrade drops them in reverse.
TABLES_IN_ORDER = [
    "audit_events",
    "audit_head",
    "clinics",
    "users",
    "memberships",
    "patients",
    "episodes",
    "blocks",
    "care_courses",
    "exams",
    "imaging",
    "intakes",
    "medications",
    "none_records",
    "procedures",
    "proms",
    "signed_assessments",
    "block_diary",
    "exam_provocations",
    "prom_answers",
]


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("detail", JSON, nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_events_seq")),
    )
    op.create_index("ix_audit_events_actor_id", "audit_events", ["actor_id"])
    op.create_index("ix_audit_events_object", "audit_events", ["object_type", "object_id"])

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "clinics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinics")),
        sa.UniqueConstraint("name", name=op.f("uq_clinics_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_memberships_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "clinic_id", name=op.f("pk_memberships")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_patients_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_patients_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint(
            "clinic_id", "external_id", name=op.f("uq_patients_clinic_id_external_id")
        ),
    )
    op.create_index("ix_patients_clinic_family", "patients", ["clinic_id", "family_name"])

    op.create_table(
        "episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("complaint", sa.String(length=200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_episodes_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_episodes_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episodes")),
    )
    op.create_index("ix_episodes_patient_id", "episodes", ["patient_id"])

    op.create_table(
        "blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=True),
        sa.Column("target", sa.String(length=30), nullable=True),
        sa.Column("guidance", sa.String(length=20), nullable=False),
        sa.Column("contrast", sa.Boolean(), nullable=True),
        sa.Column("agent", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_blocks_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_blocks_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocks")),
    )
    op.create_index("ix_blocks_episode_id", "blocks", ["episode_id"])

    op.create_table(
        "care_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_care_courses_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_care_courses_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_courses")),
    )
    op.create_index("ix_care_courses_episode_id", "care_courses", ["episode_id"])

    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("straight_leg_raise", sa.String(length=10), nullable=True),
        sa.Column("neuro_deficit", sa.Boolean(), nullable=True),
        sa.Column("hip_rotation_pain", sa.Boolean(), nullable=True),
        sa.Column("tender_psis", sa.Boolean(), nullable=True),
        sa.Column("tender_long_posterior_sacroiliac_ligament", sa.Boolean(), nullable=True),
        sa.Column("tender_sacrotuberous_ligament", sa.Boolean(), nullable=True),
        sa.Column("tender_sacral_sulcus", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_exams_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_exams_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exams")),
    )
    op.create_index("ix_exams_episode_id", "exams", ["episode_id"])

    op.create_table(
        "imaging",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("modality", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=True),
        sa.Column("findings", JSON, nullable=True),
        sa.Column("excludes_other_causes", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_imaging_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_imaging_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imaging")),
    )
    op.create_index("ix_imaging_episode_id", "imaging", ["episode_id"])

    op.create_table(
        "intakes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("pain_onset", sa.Date(), nullable=True),
        sa.Column("pain_duration_months", sa.Double(), nullable=True),
        sa.Column("pain_nrs", sa.Double(), nullable=True),
        sa.Column("side", sa.String(length=10), nullable=True),
        sa.Column("area_axial_low_back", sa.Double(), nullable=True),
        sa.Column("area_sij_region", sa.Double(), nullable=True),
        sa.Column("area_buttock_leg", sa.Double(), nullable=True),
        sa.Column("area_groin_anterior_thigh", sa.Double(), nullable=True),
        sa.Column("below_l5", sa.Boolean(), nullable=True),
        sa.Column("below_knee", sa.Boolean(), nullable=True),
        sa.Column("fortin_finger", sa.Boolean(), nullable=True),
        sa.Column("aggravating", JSON, nullable=True),
        sa.Column("relieving", JSON, nullable=True),
        sa.Column("onset", sa.String(length=30), nullable=True),
        sa.Column("red_flags", JSON, nullable=True),
        sa.Column("spa_features", JSON, nullable=True),
        sa.Column("generalized_pain_disorder", sa.Boolean(), nullable=True),
        sa.Column("pregnant", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_intakes_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_intakes_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intakes")),
    )
    op.create_index("ix_intakes_episode_id", "intakes", ["episode_id"])

    op.create_table(
        "medications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("anticoagulant", sa.Boolean(), nullable=True),
        sa.Column("allergies", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_medications_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_medications_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medications")),
    )
    op.create_index("ix_medications_episode_id", "medications", ["episode_id"])

    op.create_table(
        "none_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_none_records_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_none_records_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_none_records")),
    )
    op.create_index("ix_none_records_episode_id", "none_records", ["episode_id"])

    op.create_table(
        "procedures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=True),
        sa.Column("guidance", sa.String(length=20), nullable=True),
        sa.Column("injectate", sa.String(length=200), nullable=True),
        sa.Column("complications", JSON, nullable=True),
        sa.Column("relief_percent", sa.Double(), nullable=True),
        sa.Column("relief_weeks", sa.Double(), nullable=True),
        sa.Column("relief_ongoing", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_procedures_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_procedures_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedures")),
    )
    op.create_index("ix_procedures_episode_id", "procedures", ["episode_id"])

    op.create_table(
        "proms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("instrument", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_proms_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_proms_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proms")),
    )
    op.create_index("ix_proms_episode_id", "proms", ["episode_id"])

    op.create_table(
        "signed_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("policy", sa.String(length=60), nullable=False),
        sa.Column("knowledge_version", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("assessment", JSON, nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_signed_assessments_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["users.id"], name=op.f("fk_signed_assessments_signer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_assessments")),
    )
    op.create_index("ix_signed_assessments_episode_id", "signed_assessments", ["episode_id"])

    op.create_table(
        "block_diary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("pain", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["blocks.id"],
            name=op.f("fk_block_diary_block_id_blocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_diary")),
        sa.UniqueConstraint("block_id", "minutes", name=op.f("uq_block_diary_block_id_minutes")),
    )
    op.create_index("ix_block_diary_block_id", "block_diary", ["block_id"])

    op.create_table(
        "exam_provocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("test", sa.String(length=30), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=True),
        sa.Column("familiar_pain", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exam_id"],
            ["exams.id"],
            name=op.f("fk_exam_provocations_exam_id_exams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_provocations")),
        sa.UniqueConstraint("exam_id", "test", name=op.f("uq_exam_provocations_exam_id_test")),
    )
    op.create_index("ix_exam_provocations_exam_id", "exam_provocations", ["exam_id"])

    op.create_table(
        "prom_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prom_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["prom_id"],
            ["proms.id"],
            name=op.f("fk_prom_answers_prom_id_proms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prom_answers")),
        sa.UniqueConstraint("prom_id", "section", name=op.f("uq_prom_answers_prom_id_section")),
    )
    op.create_index("ix_prom_answers_prom_id", "prom_answers", ["prom_id"])

    head = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    on_postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_APPEND_ONLY if on_postgresql else SQLITE_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES_IN_ORDER):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_events_append_only()")

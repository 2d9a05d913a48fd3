"""The clinic app, round two (issue 22, part B): how signed notes name a user and when they
last signed in (`user_profiles`), the patient's medication list and allergies in words beside
the coded ones (`patient_medication_words`), addenda to signed assessments, documents on a
patient (their bytes stay in the private data directory), and each user's recent patients.
New tables only, so every older migration that loads users or patients through today's
models still works; nothing is recorded for existing rows. Downgrade drops them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("recent_patients", "patient_documents", "assessment_addenda",
          "patient_medication_words", "user_profiles")


def upgrade() -> None:
    op.create_table(
        "user_profiles",
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_user_profiles_user_id_users"),
                  nullable=False),
        sa.Column("full_name", sa.String(120), nullable=True),
        sa.Column("credentials", sa.String(120), nullable=True),
        sa.Column("last_sign_in_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_profiles"))
    op.create_table(
        "patient_medication_words",
        sa.Column("patient_id", sa.Integer(),
                  sa.ForeignKey("patients.id",
                                name="fk_patient_medication_words_patient_id_patients"),
                  nullable=False),
        sa.Column("medication_list", sa.String(2000), nullable=True),
        sa.Column("allergy_notes", sa.String(500), nullable=True),
        sa.Column("updated_by", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_patient_medication_words_updated_by_users"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name="pk_patient_medication_words"))
    op.create_table(
        "assessment_addenda",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("signed_assessment_id", sa.Integer(),
                  sa.ForeignKey("signed_assessments.id",
                                name="fk_assessment_addenda_signed_assessment_id_signed_assessments"),
                  nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("signer_id", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_assessment_addenda_signer_id_users"),
                  nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assessment_addenda"))
    op.create_index("ix_assessment_addenda_signed_assessment_id", "assessment_addenda",
                    ["signed_assessment_id"])
    op.create_table(
        "patient_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(),
                  sa.ForeignKey("patients.id", name="fk_patient_documents_patient_id_patients"),
                  nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_patient_documents_uploaded_by_users"),
                  nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patient_documents"))
    op.create_index("ix_patient_documents_patient_id", "patient_documents", ["patient_id"])
    op.create_table(
        "recent_patients",
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_recent_patients_user_id_users"),
                  nullable=False),
        sa.Column("patient_id", sa.Integer(),
                  sa.ForeignKey("patients.id", name="fk_recent_patients_patient_id_patients"),
                  nullable=False),
        sa.Column("viewed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "patient_id", name="pk_recent_patients"))
    op.create_index("ix_recent_patients_viewed_at", "recent_patients", ["viewed_at"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)

"""Merging two records of one person: `patient_merges` keeps what moved, and the merged-away
patient is marked `merged_into_id` (a plain column, so SQLite drops it in place). Questionnaire
links and follow-up points say when answers came outside the window ("early", "late"), and a
link names the email that carried it (`outbox_id`), for its delivery status.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TIMING_AND_DELIVERY = (("questionnaire_links", "answered_timing", sa.String(10)),
                       ("questionnaire_links", "outbox_id", sa.Integer()),
                       ("follow_up_points", "answered_timing", sa.String(10)))


def upgrade() -> None:
    json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True),
                                                   "postgresql")
    op.create_table(
        "patient_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("moved", json, nullable=False),
        sa.Column("merged_by", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("unmerged_by", sa.Integer(), nullable=True),
        sa.Column("unmerged_at", sa.DateTime(), nullable=True),
        sa.Column("unmerge_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"],
                                name=op.f("fk_patient_merges_clinic_id_clinics")),
        sa.ForeignKeyConstraint(["survivor_id"], ["patients.id"],
                                name=op.f("fk_patient_merges_survivor_id_patients")),
        sa.ForeignKeyConstraint(["merged_id"], ["patients.id"],
                                name=op.f("fk_patient_merges_merged_id_patients")),
        sa.ForeignKeyConstraint(["merged_by"], ["users.id"],
                                name=op.f("fk_patient_merges_merged_by_users")),
        sa.ForeignKeyConstraint(["unmerged_by"], ["users.id"],
                                name=op.f("fk_patient_merges_unmerged_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_merges")),
    )
    op.create_index(op.f("ix_patient_merges_survivor_id"), "patient_merges", ["survivor_id"])
    op.create_index(op.f("ix_patient_merges_merged_id"), "patient_merges", ["merged_id"])
    op.add_column("patients", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    for table, column, kind in TIMING_AND_DELIVERY:
        op.add_column(table, sa.Column(column, kind, nullable=True))


def downgrade() -> None:
    for table, column, _ in reversed(TIMING_AND_DELIVERY):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute("ALTER TABLE patients DROP COLUMN merged_into_id")
    op.drop_index(op.f("ix_patient_merges_merged_id"), table_name="patient_merges")
    op.drop_index(op.f("ix_patient_merges_survivor_id"), table_name="patient_merges")
    op.drop_table("patient_merges")

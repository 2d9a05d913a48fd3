"""Imported records (FHIR import): where each imported patient, episode and record came from,
so a second import of the same file changes nothing, and whether a clinician has reviewed it
(an unreviewed fact counts for the safety stops at once, and for opening an option only once
accepted).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imported_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("clinic_id", sa.Integer(), sa.ForeignKey("clinics.id"), nullable=False),
        sa.Column("source", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("episode_id", sa.Integer(), sa.ForeignKey("episodes.id"), nullable=True),
        sa.Column("review", sa.String(12), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("clinic_id", "source"),
    )
    op.create_index("ix_imported_records_episode", "imported_records", ["episode_id", "review"])
    op.create_index("ix_imported_records_patient_id", "imported_records", ["patient_id"])


def downgrade() -> None:
    op.drop_table("imported_records")

"""Entries kept when a session ends mid-form, the patient's contact details, and merged
patient records.

`kept_entries` holds a form submitted after its session ended, sealed (encrypted by the web
app), for the user who typed it, until it is saved after sign-in or expires. Patients gain a
phone, an email and an address (all optional). `patient_merges` records each merge of two
records of one person: which episodes moved (so an admin can undo it), who, when and why;
the merged record keeps its row.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACTS = (("phone", 40), ("email", 254), ("address", 300))


def upgrade() -> None:
    op.create_table(
        "kept_entries",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("kept_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_kept_entries_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_kept_entries")),
    )
    op.create_index(op.f("ix_kept_entries_user_id"), "kept_entries", ["user_id"])
    for name, length in CONTACTS:
        op.add_column("patients", sa.Column(name, sa.String(length), nullable=True))
    op.create_table(
        "patient_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("kept_id", sa.Integer(), nullable=False),
        sa.Column("episode_ids", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                  nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("merged_by", sa.Integer(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["merged_id"], ["patients.id"],
                                name=op.f("fk_patient_merges_merged_id_patients")),
        sa.ForeignKeyConstraint(["kept_id"], ["patients.id"],
                                name=op.f("fk_patient_merges_kept_id_patients")),
        sa.ForeignKeyConstraint(["merged_by"], ["users.id"],
                                name=op.f("fk_patient_merges_merged_by_users")),
        sa.ForeignKeyConstraint(["undone_by"], ["users.id"],
                                name=op.f("fk_patient_merges_undone_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_merges")),
    )
    op.create_index(op.f("ix_patient_merges_merged_id"), "patient_merges", ["merged_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_patient_merges_merged_id"), table_name="patient_merges")
    op.drop_table("patient_merges")
    for name, _ in reversed(CONTACTS):  # plain columns: SQLite drops them in place
        op.execute(f"ALTER TABLE patients DROP COLUMN {name}")
    op.drop_index(op.f("ix_kept_entries_user_id"), table_name="kept_entries")
    op.drop_table("kept_entries")

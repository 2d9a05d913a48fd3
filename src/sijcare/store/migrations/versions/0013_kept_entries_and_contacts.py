"""Entries kept when a session ends mid-form, and the patient's contact details.

`kept_entries` holds a form submitted after its session ended, sealed (encrypted by the web
app), for the user who typed it, until it is saved after sign-in or expires. Patients gain a
phone, an email and an address (all optional).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
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


def downgrade() -> None:
    for name, _ in reversed(CONTACTS):  # plain columns: SQLite drops them in place
        op.execute(f"ALTER TABLE patients DROP COLUMN {name}")
    op.drop_index(op.f("ix_kept_entries_user_id"), table_name="kept_entries")
    op.drop_table("kept_entries")

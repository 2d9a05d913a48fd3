"""Clinic forms: payer and corrected demographics, timeline notes, account states, time zone.

- `patients.payer`: the policy a patient's episodes are assessed under by default.
- `patient_corrections`: every corrected demographic, with the value it replaced.
- `episode_notes`: free-text clinical notes on an episode's timeline.
- `users.must_change_password`: set by an admin's password reset.
- `clinics.time_zone`: the zone the clinic's pages show times in (IANA name).

Only columns and tables are added (no column with a foreign key), so SQLite needs no table
rebuild either way.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("patients", sa.Column("payer", sa.String(60), nullable=True))
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("clinics", sa.Column("time_zone", sa.String(60), nullable=False,
                                       server_default="UTC"))
    op.create_table(
        "patient_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(30), nullable=False),
        sa.Column("old_value", sa.String(200), nullable=True),
        sa.Column("new_value", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("corrected_by", sa.Integer(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name="fk_patient_corrections_patient_id_patients"),
        sa.ForeignKeyConstraint(["corrected_by"], ["users.id"],
                                name="fk_patient_corrections_corrected_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_patient_corrections"),
    )
    op.create_index("ix_patient_corrections_patient_id", "patient_corrections", ["patient_id"])
    op.create_table(
        "episode_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"],
                                name="fk_episode_notes_episode_id_episodes"),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"],
                                name="fk_episode_notes_recorded_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_episode_notes"),
    )
    op.create_index("ix_episode_notes_episode_id", "episode_notes", ["episode_id"])


def downgrade() -> None:
    op.drop_index("ix_episode_notes_episode_id", "episode_notes")
    op.drop_table("episode_notes")
    op.drop_index("ix_patient_corrections_patient_id", "patient_corrections")
    op.drop_table("patient_corrections")
    # Plain DROP COLUMN (SQLite 3.35+): a table rebuild would trip the foreign keys into it.
    op.drop_column("clinics", "time_zone")
    op.drop_column("users", "must_change_password")
    op.drop_column("patients", "payer")

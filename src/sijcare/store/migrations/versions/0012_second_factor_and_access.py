"""Sign-in and access (issue 25): a second factor (TOTP secrets and hashed recovery codes),
each clinic's choice to require it of its clinicians, users' email for security notices, a
second admin's approval of new clinician accounts, the time a sign-in was last re-verified,
known devices, and break-glass grants.

Every existing account stays as it was: no approval pending, no factor enrolled (admins are
asked to enrol at their next sign-in), no email.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clinics", sa.Column("second_factor_required", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.add_column("users", sa.Column("email", sa.String(254), nullable=True))
    op.add_column("users", sa.Column("created_by", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("approval_pending", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("web_sessions", sa.Column("verified_at", sa.Double(), nullable=True))
    op.create_table(
        "second_factors",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_second_factors_user_id_users"),
        sa.PrimaryKeyConstraint("user_id", name="pk_second_factors"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_recovery_codes_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_codes"),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])
    op.create_table(
        "known_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_hash", sa.String(64), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_known_devices_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_known_devices"),
        sa.UniqueConstraint("user_id", "device_hash",
                            name="uq_known_devices_user_id_device_hash"),
    )
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_break_glass_grants_user_id_users"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name="fk_break_glass_grants_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_break_glass_grants"),
    )
    op.create_index("ix_break_glass_grants_user_patient", "break_glass_grants",
                    ["user_id", "patient_id"])


def downgrade() -> None:
    op.drop_table("break_glass_grants")
    op.drop_table("known_devices")
    op.drop_index("ix_recovery_codes_user_id", "recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("second_factors")
    # Plain DROP COLUMN (SQLite 3.35+): a table rebuild would trip the foreign keys into it.
    op.drop_column("web_sessions", "verified_at")
    op.drop_column("users", "approval_pending")
    op.drop_column("users", "created_by")
    op.drop_column("users", "email")
    op.drop_column("clinics", "second_factor_required")

"""Confirmation mails per recipient and per sender address, so that the clinic's mail cannot
be aimed at anyone: a table of keyed hashes the limits count (`store/mail_limits.py`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "confirmation_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("sender_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmation_mails")),
    )
    op.create_index("ix_confirmation_mails_recipient", "confirmation_mails",
                    ["recipient_key", "at"])
    op.create_index("ix_confirmation_mails_sender", "confirmation_mails", ["sender_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_confirmation_mails_sender", table_name="confirmation_mails")
    op.drop_index("ix_confirmation_mails_recipient", table_name="confirmation_mails")
    op.drop_table("confirmation_mails")

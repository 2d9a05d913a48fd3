"""The public forms' spent start tokens: each form shown may be sent once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spent_form_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("spent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_spent_form_tokens")),
    )
    op.create_index(op.f("ix_spent_form_tokens_spent_at"), "spent_form_tokens", ["spent_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_spent_form_tokens_spent_at"), table_name="spent_form_tokens")
    op.drop_table("spent_form_tokens")

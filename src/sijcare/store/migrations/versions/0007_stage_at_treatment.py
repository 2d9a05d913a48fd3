"""The stage at treatment: `procedures.stage_at_treatment`, so the registry can filter by it.

Existing procedures get theirs once every migration has run (`store.db.upgrade`), by the
engine over each episode's records, exactly as the store derives it on every change
(`treatment_stages.refresh_stages`). Downgrade drops the column (it is derived, nothing is
lost).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("procedures", sa.Column("stage_at_treatment", sa.String(40), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE procedures DROP COLUMN stage_at_treatment")

"""The anticoagulation plan (ENGINE-RULES v3): `medications.anticoagulant_plan`, true when a
peri-procedural plan for the anticoagulant is documented, false when documented as none, NULL
when not recorded (every existing record: nobody was asked).

Each procedure's stage at treatment is derived again once every migration has run
(`store.db.upgrade`), not here: the derivation reads records through today's models, which
later revisions extend. Downgrade drops the column.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("medications", sa.Column("anticoagulant_plan", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE medications DROP COLUMN anticoagulant_plan")

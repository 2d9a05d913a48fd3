"""Which email confirmed an appointment request (`confirmation_outbox_id`, no key: the outbox
is pruned, as for questionnaire links), and whether a confirmation limit held it back
(`confirmation_withheld`), so the inbox shows whether the patient was told. Plain columns, so
SQLite drops them in place. Requests from before this migration are linked to their mail by
`store.db.upgrade` (derived from the outbox, not here).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("confirmation_outbox_id", sa.Integer()), ("confirmation_withheld", sa.Boolean()))


def upgrade() -> None:
    for column, kind in COLUMNS:
        op.add_column("appointment_requests", sa.Column(column, kind, nullable=True))


def downgrade() -> None:
    for column, _ in reversed(COLUMNS):
        op.execute(f"ALTER TABLE appointment_requests DROP COLUMN {column}")

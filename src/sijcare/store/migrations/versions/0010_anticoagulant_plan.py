"""The anticoagulation plan (ENGINE-RULES v3): `medications.anticoagulant_plan`, true when a
peri-procedural plan for the anticoagulant is documented, false when documented as none, NULL
when not recorded (every existing record: nobody was asked).

It also carries the backfill of each procedure's stage at treatment that 0007 ran: the
backfill reads the records through today's models, which now have this column, so it must run
after it (0008 and 0009 change no record table). On a database that 0007 already backfilled
it derives the stages again, as the store would on the next change of the episode (v3 moved
some stages). Downgrade drops the column (the stages stay: 0007's column is derived either
way).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from sijcare.store.treatment_stages import refresh_stages

    op.add_column("medications", sa.Column("anticoagulant_plan", sa.Boolean(), nullable=True))
    bind = op.get_bind()
    episodes = bind.execute(sa.text("SELECT DISTINCT episode_id FROM procedures")).scalars()
    with Session(bind=bind) as session:
        refresh_stages(session, list(episodes), imported=False)
        session.flush()


def downgrade() -> None:
    op.execute("ALTER TABLE medications DROP COLUMN anticoagulant_plan")

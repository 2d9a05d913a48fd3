"""Keyed tamper evidence and idempotent API writes.

The audit head gains `keyed_from` (the first entry hashed with the audit key; NULL until one
is appended, so every existing entry keeps its plain sha256 and still verifies) and `seal`
(an HMAC of the head). Signed assessments gain `seal_version`: 1 for the plain sha256 every
existing row carries, 2 for seals keyed with the audit key. `idempotent_requests` holds the
answers of JSON API writes sent with an `Idempotency-Key`.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.add_column("audit_head", sa.Column("keyed_from", sa.Integer(), nullable=True))
    op.add_column("audit_head", sa.Column("seal", sa.String(length=64), nullable=True))
    op.add_column("signed_assessments", sa.Column("seal_version", sa.Integer(), nullable=False,
                                                  server_default="1"))
    op.create_table(
        "idempotent_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_idempotent_requests_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_requests")),
        sa.UniqueConstraint("actor_id", "key",
                            name=op.f("uq_idempotent_requests_actor_id_key")),
    )
    op.create_index(op.f("ix_idempotent_requests_created_at"), "idempotent_requests",
                    ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotent_requests_created_at"), table_name="idempotent_requests")
    op.drop_table("idempotent_requests")
    # Plain DROP COLUMN (SQLite 3.35+): a table rebuild would trip the foreign keys into it.
    op.execute("ALTER TABLE signed_assessments DROP COLUMN seal_version")
    op.execute("ALTER TABLE audit_head DROP COLUMN seal")
    op.execute("ALTER TABLE audit_head DROP COLUMN keyed_from")

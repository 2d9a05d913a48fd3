"""CDS Hooks and SMART launch: the JWT ids seen (replays refused across processes), the
cards' feedback, and SMART launches under way (their PKCE verifiers, server-side).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cds_token_ids",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_cds_token_ids")),
    )
    op.create_index(op.f("ix_cds_token_ids_expires_at"), "cds_token_ids", ["expires_at"])
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=60), nullable=False),
        sa.Column("card", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("outcome_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("stop", sa.String(length=100), nullable=True),
        sa.Column("ehr_user", sa.String(length=200), nullable=True),
        sa.Column("reason_system", sa.String(length=300), nullable=True),
        sa.Column("reason_code", sa.String(length=100), nullable=True),
        sa.Column("reason_display", sa.String(length=300), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("accepted_suggestions", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_feedback")),
    )
    op.create_index(op.f("ix_cds_feedback_card"), "cds_feedback", ["card"])
    op.create_index("ix_cds_feedback_rule", "cds_feedback", ["rule", "outcome"])
    op.create_table(
        "smart_launches",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_smart_launches")),
    )
    op.create_index(op.f("ix_smart_launches_created_at"), "smart_launches", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_smart_launches_created_at"), table_name="smart_launches")
    op.drop_table("smart_launches")
    op.drop_index("ix_cds_feedback_rule", table_name="cds_feedback")
    op.drop_index(op.f("ix_cds_feedback_card"), table_name="cds_feedback")
    op.drop_table("cds_feedback")
    op.drop_index(op.f("ix_cds_token_ids_expires_at"), table_name="cds_token_ids")
    op.drop_table("cds_token_ids")

"""Records can be marked "entered in error": `voided_on`, `voided_by`, `void_reason`.

SQLite cannot add a foreign key with ALTER except inline with its column, and rebuilding a
record table would cascade-delete its child rows (diary, tests, answers) when the old table
is dropped, since the store runs with foreign keys on. So SQLite gets `ADD COLUMN ...
REFERENCES`; its downgrade rebuilds the tables and puts the child rows back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_TABLES = ["intakes", "exams", "imaging", "care_courses", "blocks", "procedures",
                 "proms", "medications", "none_records"]
CHILD_TABLES = ["block_diary", "exam_provocations", "prom_answers"]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    for table in RECORD_TABLES:
        fk = f"fk_{table}_voided_by_users"
        if _sqlite():
            op.add_column(table, sa.Column("voided_on", sa.Date(), nullable=True))
            op.execute(f"ALTER TABLE {table} ADD COLUMN voided_by INTEGER "
                       f"CONSTRAINT {fk} REFERENCES users (id)")
            op.add_column(table, sa.Column("void_reason", sa.String(200), nullable=True))
        else:
            op.add_column(table, sa.Column("voided_on", sa.Date(), nullable=True))
            op.add_column(table, sa.Column("voided_by", sa.Integer(), nullable=True))
            op.add_column(table, sa.Column("void_reason", sa.String(200), nullable=True))
            op.create_foreign_key(fk, table, "users", ["voided_by"], ["id"])


def downgrade() -> None:
    if not _sqlite():
        for table in RECORD_TABLES:
            op.drop_constraint(f"fk_{table}_voided_by_users", table, type_="foreignkey")
            for column in ("void_reason", "voided_by", "voided_on"):
                op.drop_column(table, column)
        return
    for child in CHILD_TABLES:
        op.execute(f"CREATE TEMP TABLE _keep_{child} AS SELECT * FROM {child}")
    for table in RECORD_TABLES:
        with op.batch_alter_table(table, recreate="always") as batch:
            for column in ("void_reason", "voided_by", "voided_on"):
                batch.drop_column(column)
    for child in CHILD_TABLES:
        op.execute(f"DELETE FROM {child}")
        op.execute(f"INSERT INTO {child} SELECT * FROM _keep_{child}")
        op.execute(f"DROP TABLE _keep_{child}")

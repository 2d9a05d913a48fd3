"""The migrations build exactly the tables the models describe, and the audit log is append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from sijcare.store import AuditEvent, Base, make_engine, record_event, session_factory, upgrade
from sijcare.store.audit import GENESIS
from sijcare.store.db import current_revision, head_revision
from sijcare.store.models import AuditHead
from tests.store.helpers import migrated


def test_upgrade_creates_every_table_at_head(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert tables == {*Base.metadata.tables, "alembic_version"}
    assert current_revision(engine) == head_revision() == "0001"


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_chain_head_is_seeded_at_genesis(fresh_url: str) -> None:
    engine = migrated(fresh_url)
    with engine.connect() as connection:
        head = connection.execute(select(AuditHead.__table__)).all()
    engine.dispose()
    assert [(row.id, row.seq, row.hash) for row in head] == [(1, 0, GENESIS)]


def test_upgrade_is_idempotent(db_url: str, engine: Engine) -> None:
    again = make_engine(db_url)
    upgrade(again)
    again.dispose()
    assert current_revision(engine) == head_revision()


@pytest.mark.parametrize("statement", [
    update(AuditEvent).values(action="edited"),
    AuditEvent.__table__.delete(),
])
def test_audit_rows_cannot_be_changed_or_deleted(engine: Engine, statement: object) -> None:
    with session_factory(engine).begin() as session:
        record_event(session, None, "read", "patient", 1)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(statement)  # type: ignore[call-overload]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() >= 1

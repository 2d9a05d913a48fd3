"""`sijcare db check`: the database's own integrity check. On PostgreSQL it verifies every
B-tree index of sijcare's tables with amcheck (installed when the role may), catches an index
that no longer matches its table, and says plainly when amcheck cannot be used."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from typer.testing import CliRunner

from sijcare.cli import app
from sijcare.store import session_factory
from sijcare.store.integrity import check_integrity
from tests.store.helpers import make_world, migrated

runner = CliRunner()


@pytest.fixture
def filled(fresh_url: str) -> Iterator[Engine]:
    engine = migrated(fresh_url)
    with session_factory(engine)() as session:
        make_world(session)
    yield engine
    engine.dispose()


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_whole_database_passes(filled: Engine) -> None:
    report = check_integrity(filled)
    assert report.ok, report.problems
    done = runner.invoke(app, ["db", "check", "--url", url_of(filled)])
    assert done.exit_code == 0 and "is whole" in done.stdout
    if filled.dialect.name == "postgresql":  # the test server's role may install amcheck
        assert report.amcheck and report.indexes_checked >= 40, report.method
        assert "bt_index_check with heapallindexed" in done.stdout


def test_an_orphan_row_fails_the_sqlite_check(filled: Engine) -> None:
    if filled.dialect.name != "sqlite":
        pytest.skip("foreign keys are enforced by PostgreSQL itself")
    raw = sqlite3.connect(filled.url.database)  # foreign keys off: as a torn write leaves it
    with raw:
        raw.execute("INSERT INTO memberships (user_id, clinic_id, created_at) "
                    "VALUES (9999, 9999, '2026-01-01 00:00:00')")
    raw.close()
    report = check_integrity(filled)
    assert not report.ok and "memberships row" in report.problems[0]
    done = runner.invoke(app, ["db", "check", "--url", url_of(filled)])
    assert done.exit_code == 1 and "DAMAGED" in done.stderr


def test_an_index_that_no_longer_matches_its_table_is_caught(filled: Engine) -> None:
    """An expression index over a function declared IMMUTABLE that then changes: the index
    keeps entries the table's rows no longer make, as after a torn write or a bad collation
    update. amcheck's heapallindexed finds the rows without their entries."""
    if filled.dialect.name != "postgresql":
        pytest.skip("amcheck is PostgreSQL's")
    with filled.begin() as connection:
        connection.exec_driver_sql(
            "CREATE FUNCTION shout(t text) RETURNS text IMMUTABLE LANGUAGE sql "
            "AS $$ SELECT upper(t) $$")
        connection.exec_driver_sql("CREATE INDEX clinics_shouted ON clinics (shout(name))")
        connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION shout(t text) RETURNS text IMMUTABLE LANGUAGE sql "
            "AS $$ SELECT lower(t) $$")
    report = check_integrity(filled)
    assert report.amcheck and not report.ok
    assert any(p.startswith("index clinics_shouted:") for p in report.problems), report.problems
    done = runner.invoke(app, ["db", "check", "--url", url_of(filled)])
    assert done.exit_code == 1 and "clinics_shouted" in done.stderr


@pytest.fixture
def without_superuser(filled: Engine) -> Iterator[str]:
    """The URL of the same database for a role that is no superuser (nor owner of amcheck)."""
    if filled.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL role")
    role = f"sijcare_plain_{secrets.token_hex(4)}"
    schema = filled.dialect.default_schema_name
    with filled.begin() as connection:
        schema = connection.scalar(text("SELECT current_schema()"))
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        connection.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
    try:
        yield make_url(url_of(filled)).set(username=role).render_as_string(
            hide_password=False)
    finally:
        admin = create_engine(url_of(filled))
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def test_without_amcheck_the_check_says_so(without_superuser: str) -> None:
    plain = create_engine(without_superuser)
    try:
        report = check_integrity(plain)
    finally:
        plain.dispose()
    assert report.ok and not report.amcheck and report.indexes_checked == 0
    assert "indexes NOT verified (amcheck is not available: " in report.method
    assert "permission denied" in report.method or "must be" in report.method, report.method
    done = runner.invoke(app, ["db", "check", "--url", without_superuser])
    assert done.exit_code == 0 and "indexes were not verified" in done.stderr

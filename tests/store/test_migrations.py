"""The migrations build exactly the tables the models describe, and the audit log is append-only."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from sijcare.store import (
    AuditEvent,
    Base,
    make_engine,
    record_event,
    session_factory,
    upgrade,
)
from sijcare.store.audit import GENESIS
from sijcare.store.db import _migrate, current_revision, head_revision
from sijcare.store.models import AuditHead
from tests.store.helpers import migrated

VERSIONS = Path(_migrate.__code__.co_filename).parent / "migrations" / "versions"
LAST_FILE = sorted(VERSIONS.glob("[0-9]*.py"))[-1].name[:4]


def test_upgrade_creates_every_table_at_head(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert tables == {*Base.metadata.tables, "alembic_version"}
    assert current_revision(engine) == head_revision() == LAST_FILE


def test_the_migrations_form_one_chain_numbered_in_order() -> None:
    """Each migration revises the one numbered before it, so the files read in order."""
    for path in sorted(VERSIONS.glob("[0-9]*.py"))[1:]:
        number = int(path.name[:4])
        source = path.read_text()
        assert f'revision: str = "{number:04d}"' in source, path.name
        assert f'down_revision: str | None = "{number - 1:04d}"' in source, path.name


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def no_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_upgrade_from_0001_keeps_records_and_downgrade_keeps_their_children(
        fresh_url: str) -> None:
    """0002 adds the entered-in-error columns to a 0001 database holding records (a block
    with its diary), 0004 its columns and tables, and going back to 0001 and up again loses
    neither rows nor indexes."""
    engine = make_engine(fresh_url)
    with engine.begin() as connection:
        _migrate(connection, ("upgrade", "0001"))
    assert current_revision(engine) == "0001"
    with engine.begin() as connection:  # the models have moved on: write rows as 0001 did
        for statement in (
            "INSERT INTO clinics (id, name, demo, created_at) VALUES (1, 'C', false, :at)",
            "INSERT INTO users (id, username, password_hash, role, active, created_at) "
            "VALUES (1, 'u', 'x', 'clinician', true, :at)",
            "INSERT INTO patients (id, clinic_id, given_name, family_name, birth_date, sex, "
            "demo, created_at) VALUES (1, 1, 'Ada', 'Tester', '1970-05-01', 'female', false, "
            ":at)",
            "INSERT INTO episodes (id, patient_id, complaint, opened_on, created_at) "
            "VALUES (1, 1, 'pain', '2026-05-01', :at)",
            "INSERT INTO blocks (id, episode_id, recorded_on, recorded_by, created_at, date, "
            "guidance) VALUES (1, 1, '2026-05-20', 1, :at, '2026-05-20', 'fluoroscopy')"):
            connection.execute(text(statement), {"at": "2026-05-20 10:00:00"})
        connection.execute(text("INSERT INTO block_diary (block_id, minutes, pain) "
                                "VALUES (1, 0, 8), (1, 30, 1)"))
    try:
        for steps in ([("upgrade", "head")], [("downgrade", "0001"), ("upgrade", "head")]):
            with engine.begin() as connection:
                _migrate(connection, *steps)
            assert current_revision(engine) == head_revision()
            no_drift(engine)
            with engine.connect() as connection:
                diary = connection.execute(text("SELECT count(*) FROM block_diary")).scalar()
                voided = connection.execute(text("SELECT voided_on FROM blocks")).scalars()
                assert (diary, list(voided)) == (2, [None])
    finally:
        engine.dispose()


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


def test_0010_adds_the_anticoagulation_plan_as_not_recorded(fresh_url: str) -> None:
    """A 0009 database's medications keep their rows; nobody was asked about a plan, so it
    reads NULL (not recorded), and going back to 0009 drops only the column."""
    engine = make_engine(fresh_url)
    with engine.begin() as connection:
        _migrate(connection, ("upgrade", "0009"))
        for statement in (
            "INSERT INTO clinics (id, name, demo, created_at, time_zone) "
            "VALUES (1, 'C', false, :at, 'UTC')",
            "INSERT INTO users (id, username, password_hash, role, active, created_at, "
            "must_change_password) VALUES (1, 'u', 'x', 'clinician', true, :at, false)",
            "INSERT INTO patients (id, clinic_id, given_name, family_name, birth_date, sex, "
            "demo, created_at) VALUES (1, 1, 'Ada', 'Tester', '1970-05-01', 'female', false, "
            ":at)",
            "INSERT INTO episodes (id, patient_id, complaint, opened_on, created_at) "
            "VALUES (1, 1, 'pain', '2026-05-01', :at)",
            "INSERT INTO medications (id, episode_id, recorded_on, recorded_by, created_at, "
            "anticoagulant) VALUES (1, 1, '2026-05-20', 1, :at, true)"):
            connection.execute(text(statement), {"at": "2026-05-20 10:00:00"})
    try:
        with engine.begin() as connection:
            _migrate(connection, ("upgrade", "head"))
        no_drift(engine)
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT anticoagulant, anticoagulant_plan FROM medications")).all()
        assert [tuple(row) for row in rows] == [(True, None)]
        with engine.begin() as connection:
            _migrate(connection, ("downgrade", "0009"))
        columns = {c["name"] for c in inspect(engine).get_columns("medications")}
        assert "anticoagulant_plan" not in columns and "anticoagulant" in columns
    finally:
        engine.dispose()


def test_0018_links_each_older_request_to_the_email_that_confirmed_it(fresh_url: str) -> None:
    """A 0017 database's requests get their confirmation from the outbox when the store
    upgrades (the mail queued to the address with the request, no other request's); a
    request whose mail is not found stays unknown, not "withheld". Down again drops only the
    columns."""
    engine = make_engine(fresh_url)
    at = "2026-05-20 10:00:0{}"
    with engine.begin() as connection:
        _migrate(connection, ("upgrade", "0017"))
        connection.execute(text("INSERT INTO clinics (id, name, demo, created_at, time_zone) "
                                "VALUES (1, 'C', false, :at, 'UTC')"), {"at": at.format(0)})
        for request_id, email, second in ((1, "a@example.org", 0), (2, "a@example.org", 4),
                                          (3, "b@example.org", 6), (4, None, 7)):
            connection.execute(text(
                "INSERT INTO appointment_requests (id, clinic_id, given_name, family_name, "
                "birth_date, email, consent_at, status, created_at) VALUES (:id, 1, 'A', 'B', "
                "'1970-05-01', :email, :at, 'new', :at)"),
                {"id": request_id, "email": email, "at": at.format(second)})
        for mail_id, address, second in ((7, "a@example.org", 1), (8, "a@example.org", 5),
                                         (9, "c@example.org", 6)):
            connection.execute(text(
                "INSERT INTO outbox (id, kind, to_address, subject, text, created_at, "
                "next_attempt_at, attempts) VALUES (:id, 'appointment_confirmation', :to, "
                "'s', 't', :at, :at, 0)"), {"id": mail_id, "to": address,
                                            "at": at.format(second)})
    try:
        upgrade(engine)
        no_drift(engine)
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, confirmation_outbox_id, confirmation_withheld FROM "
                "appointment_requests ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(1, 7, None), (2, 8, None), (3, None, None),
                                                (4, None, None)]
        with engine.begin() as connection:
            _migrate(connection, ("downgrade", "0017"))
        columns = {c["name"] for c in inspect(engine).get_columns("appointment_requests")}
        assert not columns & {"confirmation_outbox_id", "confirmation_withheld"}
        assert "email" in columns
    finally:
        engine.dispose()

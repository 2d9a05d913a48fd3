"""`sijcare db upgrade | backup | restore | audit verify`: thin commands, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text, update
from typer.testing import CliRunner, Result

from sijcare.cli import app
from sijcare.store import AuditEvent, load_demo, make_engine, session_factory
from tests.store.helpers import TODAY

runner = CliRunner()


def sijcare(*args: str) -> Result:
    return runner.invoke(app, list(args))


def with_demo(url: str) -> None:
    assert sijcare("db", "upgrade", "--url", url).exit_code == 0
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        load_demo(session, today=TODAY)
    engine.dispose()


def test_db_upgrade_creates_and_repeats(fresh_url: str) -> None:
    first = sijcare("db", "upgrade", "--url", fresh_url)
    again = sijcare("db", "upgrade", "--url", fresh_url)
    assert first.exit_code == again.exit_code == 0
    assert "is at schema revision 0006 (current)" in again.stdout


def test_default_url_comes_from_the_environment(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIJCARE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    done = sijcare("db", "upgrade")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "env.db").is_file() and "env.db" in done.stdout


def test_backup_then_restore_needs_yes_over_data(fresh_url: str, tmp_path: Path) -> None:
    with_demo(fresh_url)
    file = tmp_path / "clinic.backup"
    done = sijcare("backup", str(file), "--url", fresh_url)
    assert done.exit_code == 0 and file.is_file() and str(file) in done.stdout
    refused = sijcare("restore", str(file), "--url", fresh_url)
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "holds data the restore would replace; pass --yes" in refused.stderr
    restored = sijcare("restore", str(file), "--url", fresh_url, "--yes")
    assert restored.exit_code == 0, restored.output
    assert "8 patients" in restored.stdout
    assert sijcare("audit", "verify", "--url", fresh_url).exit_code == 0


def test_restore_into_an_empty_database_needs_no_yes(fresh_url: str, tmp_path: Path) -> None:
    with_demo(fresh_url)
    file = tmp_path / "clinic.backup"
    assert sijcare("backup", str(file), "--url", fresh_url).exit_code == 0
    empty = f"sqlite:///{tmp_path / 'new.db'}"
    done = sijcare("restore", str(file), "--url", empty)
    assert done.exit_code == 0, done.output
    assert "audit entries" in done.stdout


def test_audit_verify_passes_then_catches_tampering(fresh_url: str) -> None:
    with_demo(fresh_url)
    intact = sijcare("audit", "verify", "--url", fresh_url)
    assert intact.exit_code == 0 and intact.stdout.startswith("audit chain intact: ")
    engine = make_engine(fresh_url)
    with engine.begin() as connection:
        triggers = (["DROP TRIGGER audit_events_no_update"] if engine.dialect.name == "sqlite"
                    else ["DROP TRIGGER audit_events_no_change ON audit_events"])
        for sql in triggers:
            connection.execute(text(sql))
        connection.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(action="x"))
    engine.dispose()
    broken = sijcare("audit", "verify", "--url", fresh_url)
    assert broken.exit_code == 1 and broken.stdout == ""
    assert "audit chain BROKEN" in broken.stderr and "entry 3 does not match" in broken.stderr


@pytest.mark.parametrize("args", [
    ("db", "upgrade", "--url", "nosuch://somewhere"),
    ("audit", "verify", "--url", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"),
])
def test_database_trouble_is_one_error_line(args: tuple[str, ...]) -> None:
    done = sijcare(*args)
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert "secret" not in done.stderr and "Traceback" not in done.stderr


def test_backup_and_restore_errors_name_the_problem(tmp_path: Path) -> None:
    never = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    done = sijcare("backup", str(tmp_path / "b.backup"), "--url", never)
    assert done.exit_code == 2 and "run `sijcare db upgrade` first" in done.stderr
    junk = tmp_path / "junk.backup"
    junk.write_text("hello")
    done = sijcare("restore", str(junk), "--url", never, "--yes")
    assert done.exit_code == 2 and "not a sijcare backup" in done.stderr

"""Everything a command takes out of the database is in the audit chain: the research export,
backups, the reports; a restore is recorded in the chain it brings back; and `sijcare audit
verify` still passes after each, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from sijcare.cli import app
from sijcare.store import AuditEvent, Episode, load_demo, make_engine, session_factory
from tests.store.helpers import TODAY

runner = CliRunner()


def sijcare(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def clinic(db_url: str) -> tuple[str, int]:
    """The demo clinic, once per backend, and one of its episodes."""
    assert sijcare("db", "upgrade", "--url", db_url).exit_code == 0
    engine = make_engine(db_url)
    with session_factory(engine).begin() as session:
        load_demo(session, today=TODAY)
    with session_factory(engine)() as session:
        episode_id = session.scalars(select(Episode.id).order_by(Episode.id)).first()
    engine.dispose()
    return db_url, episode_id


def last_entry(url: str) -> AuditEvent:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        entry = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    engine.dispose()
    return entry


Command = Callable[[Path, int], list[str]]
COMMANDS: dict[str, tuple[Command, str]] = {
    "sijcare export research": (lambda tmp, _: [
        "export", "research", "-o", str(tmp / "export"), "--key-file", str(tmp / "key")],
        "research_export"),
    "sijcare backup": (lambda tmp, _: ["backup", str(tmp / "clinic.backup")], "database"),
    "sijcare report episode": (lambda tmp, episode: [
        "report", "episode", str(episode), "-o", str(tmp / "episode.html")], "episode"),
    "sijcare report prior-auth": (lambda tmp, episode: [
        "report", "prior-auth", str(episode), "--option", "sij_rfa", "-o",
        str(tmp / "packet.html")], "episode"),
    "sijcare report registry": (lambda tmp, _: [
        "report", "registry", "--stage", "diagnostic_block", "--from", "2025-01-01", "-o",
        str(tmp / "registry.html")], "registry"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_way_out_writes_an_export_entry_and_the_chain_verifies(
        clinic: tuple[str, int], command: str, tmp_path: Path) -> None:
    url, episode = clinic
    args, what = COMMANDS[command]
    done = sijcare(*args(tmp_path, episode), "--url", url)
    assert done.exit_code == 0, done.output
    entry = last_entry(url)
    assert (entry.action, entry.object_type, entry.actor_id) == ("export", what, None)
    assert entry.detail["via"] == command and "os_user" in entry.detail
    if what == "episode":
        assert entry.object_id == str(episode) and entry.clinic_id is not None
        assert entry.detail["file"].endswith(".html")
    if what == "registry":
        assert entry.detail["filters"] == {"from": "2025-01-01", "stage": "diagnostic_block"}
    if what == "research_export":
        assert entry.detail["rows"]["patients"] > 0
    verified = sijcare("audit", "verify", "--url", url)
    assert verified.exit_code == 0, verified.output


def test_a_restore_is_recorded_in_the_chain_it_brings_back(clinic: tuple[str, int],
                                                           tmp_path: Path) -> None:
    url, _ = clinic
    file = tmp_path / "clinic.backup"
    assert sijcare("backup", str(file), "--url", url).exit_code == 0
    copy = f"sqlite:///{tmp_path / 'restored.db'}"
    done = sijcare("restore", str(file), "--url", copy)
    assert done.exit_code == 0, done.output
    entry = last_entry(copy)
    assert (entry.action, entry.object_type, entry.actor_id) == ("restore", "database", None)
    assert entry.detail["file"] == str(file.resolve()) and entry.detail["patients"] == 8
    verified = sijcare("audit", "verify", "--url", copy)
    assert verified.exit_code == 0, verified.output

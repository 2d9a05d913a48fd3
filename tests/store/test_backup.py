"""A backup is one consistent snapshot; restoring it brings back every row, chain included."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.store import (
    BackupError,
    Base,
    Episode,
    backup,
    case_as_of,
    create_clinic,
    generate_synthetic,
    load_demo,
    make_engine,
    record_event,
    restore,
    session_factory,
    sign_assessment,
    verify_chain,
)
from sijcare.store.backup import holds_data
from tests.store.helpers import TODAY, migrated

backup_module = importlib.import_module("sijcare.store.backup")  # `backup` is also a function


def populate(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        patients = load_demo(session, today=TODAY)
        generate_synthetic(session, 20, today=TODAY)
        episode = patients[2].episodes[0]
        assessment = assess(case_as_of(session, episode.id, TODAY))
        sign_assessment(session, episode.id, assessment, episode.created_by or 0)


def everything(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {table.name: [dict(row._mapping) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


def test_backup_and_restore_round_trip(fresh_url: str, tmp_path: Path) -> None:
    engine = migrated(fresh_url)
    populate(engine)
    expected = everything(engine)
    file = backup(fresh_url, tmp_path / "clinic.backup")
    with session_factory(engine).begin() as session:  # work done after the backup...
        generate_synthetic(session, 5, today=TODAY)
    counts = restore(file, fresh_url)  # ...is replaced by the backup's rows
    assert counts == {name: len(rows) for name, rows in expected.items()}
    assert counts["patients"] == 28 and counts["audit_events"] > 28
    assert everything(engine) == expected
    with session_factory(engine).begin() as session:  # new rows get new ids after a restore
        clinic = create_clinic(session, "Opened after the restore")
        record_event(session, None, "create", "clinic", clinic.id)
    with Session(engine) as session:
        result = verify_chain(session)
    engine.dispose()
    assert clinic.id > max(row["id"] for row in expected["clinics"])
    assert result.ok and result.entries == len(expected["audit_events"]) + 1


def test_backup_restores_into_a_sqlite_file(fresh_url: str, tmp_path: Path) -> None:
    engine = migrated(fresh_url)
    populate(engine)
    expected = everything(engine)
    engine.dispose()
    file = backup(fresh_url, tmp_path / "clinic.backup")
    assert sqlite3.connect(file).execute("SELECT count(*) FROM patients").fetchone() == (28,)
    copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
    restore(file, copy_url)
    copy = make_engine(copy_url)
    assert everything(copy) == expected
    with Session(copy) as session:
        assert verify_chain(session).ok
    copy.dispose()


def test_backup_is_a_committed_snapshot_while_a_write_is_open(fresh_url: str,
                                                              tmp_path: Path) -> None:
    engine = migrated(fresh_url)
    with session_factory(engine).begin() as session:
        record_event(session, None, "read", "patient", 1)
    with session_factory(engine)() as open_write:
        record_event(open_write, None, "read", "patient", 2)  # flushed, not committed
        file = backup(fresh_url, tmp_path / "snapshot.backup")
        open_write.rollback()
    engine.dispose()
    rows = sqlite3.connect(file).execute("SELECT object_id FROM audit_events").fetchall()
    assert rows == [("1",)]


def test_restore_refuses_what_is_not_a_backup(fresh_url: str, tmp_path: Path) -> None:
    engine = migrated(fresh_url)
    with session_factory(engine).begin() as session:
        create_clinic(session, "Must survive")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    foreign = tmp_path / "other.db"
    sqlite3.connect(foreign).execute("CREATE TABLE things (id INTEGER)").connection.commit()
    for bad in (junk, foreign):
        with pytest.raises(BackupError, match="not a sijcare backup"):
            restore(bad, fresh_url)
    with pytest.raises(BackupError, match="no such backup file"):
        restore(tmp_path / "missing.db", fresh_url)
    assert holds_data(fresh_url)
    assert [row["name"] for row in everything(engine)["clinics"]] == ["Must survive"]
    engine.dispose()


def test_backup_refuses_a_database_not_at_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(BackupError, match="run `sijcare db upgrade` first"):
        backup(url, tmp_path / "never.backup")
    assert not (tmp_path / "never.backup").exists()
    assert not holds_data(url)


def test_a_backup_restores_the_same_case(fresh_url: str, tmp_path: Path) -> None:
    engine = migrated(fresh_url)
    populate(engine)
    past = TODAY - dt.timedelta(days=30)
    with Session(engine) as session:
        episode_id = session.scalars(select(Episode.id).where(
            Episode.complaint.contains("block confirmed"))).one()
        before = case_as_of(session, episode_id, past)
    file = backup(fresh_url, tmp_path / "clinic.backup")
    copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
    restore(file, copy_url)
    copy = make_engine(copy_url)
    with Session(copy) as session:
        assert case_as_of(session, episode_id, past) == before
    copy.dispose()
    engine.dispose()


def test_a_backup_is_private_from_its_first_byte(fresh_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every patient's record is in it: mode 0600 even while it is being written."""
    engine = migrated(fresh_url)
    populate(engine)
    engine.dispose()
    modes_while_writing = []

    def watched(copy: Callable[[Engine, Path], None]) -> Callable[[Engine, Path], None]:
        def write(source: Engine, partial: Path) -> None:
            modes_while_writing.append(stat.S_IMODE(partial.stat().st_mode))
            copy(source, partial)
        return write

    monkeypatch.setattr(backup_module, "_sqlite_backup", watched(backup_module._sqlite_backup))
    monkeypatch.setattr(backup_module, "_dump", watched(backup_module._dump))
    old_umask = os.umask(0o022)  # the usual umask, under which files come out 0644
    try:
        file = backup(fresh_url, tmp_path / "clinic.backup")
    finally:
        os.umask(old_umask)
    assert modes_while_writing == [0o600]
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert sqlite3.connect(file).execute("SELECT count(*) FROM patients").fetchone() == (28,)

"""A backup taken while the clinic keeps writing is one consistent snapshot: restored into an
empty database it equals the backup row by row and its audit chain verifies; a backup from a
newer schema is refused with one clear error."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from sijcare.store import (
    AuditEvent,
    BackupError,
    Base,
    add_record,
    backup,
    make_engine,
    restore,
    session_factory,
    verify_chain,
)
from sijcare.store.signing import seals_match_audit
from tests.store.helpers import TODAY, fresh_database, make_world, migrated

WRITERS = 3


def rows(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(url) if url.startswith("sqlite") else make_engine(url)
    try:
        with engine.connect() as connection:
            return {table.name: [dict(row._mapping) for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns))]
                    for table in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


@pytest.mark.parametrize("target_backend", ["sqlite", "postgresql"])
def test_a_backup_under_concurrent_writes_restores_row_for_row(
        fresh_url: str, tmp_path: Path, target_backend: str) -> None:
    engine = migrated(fresh_url)
    with session_factory(engine)() as session:
        world = make_world(session)
    stop, written, failures = threading.Event(), [0] * WRITERS, []

    def write(worker: int) -> None:
        factory = session_factory(engine)
        try:
            while not stop.is_set():
                with factory.begin() as session:
                    add_record(session, world.episode_id, "prom",
                               {"date": TODAY.isoformat(), "instrument": "nrs",
                                "value": worker}, world.user_id, TODAY)
                written[worker] += 1
        except Exception as error:  # reported below, with its worker
            failures.append((worker, error))

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in writers:
        thread.start()
    try:
        while sum(written) < 30 and not failures:
            time.sleep(0.02)
        file = backup(fresh_url, tmp_path / "under-load.backup")
        at_backup = sum(written)
        while sum(written) < at_backup + 30 and not failures:  # writes go on after it
            time.sleep(0.02)
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    engine.dispose()
    assert not failures, failures
    in_backup = rows(f"sqlite:///{file}")
    assert 30 <= len(in_backup["proms"]) < sum(written)  # a snapshot taken mid-stream
    with fresh_database(target_backend, tmp_path / "target") as target_url:
        if target_backend == "sqlite":
            (tmp_path / "target").mkdir()
        counts = restore(file, target_url)
        assert counts == {name: len(table) for name, table in in_backup.items()}
        assert rows(target_url) == in_backup
        restored = make_engine(target_url)
        with Session(restored) as session:
            report = verify_chain(session)
            assert report.ok, report.problems
            assert seals_match_audit(session) == []
            creates = set(session.scalars(select(AuditEvent.object_id).where(
                AuditEvent.object_type == "prom")))
        restored.dispose()
    assert creates == {str(row["id"]) for row in in_backup["proms"]}  # each with its entry


def test_a_backup_from_a_newer_schema_is_refused_and_changes_nothing(
        fresh_url: str, tmp_path: Path) -> None:
    engine = migrated(fresh_url)
    with session_factory(engine)() as session:
        make_world(session)
    engine.dispose()
    file = backup(fresh_url, tmp_path / "clinic.backup")
    connection = sqlite3.connect(file)
    with connection:  # commits; closing folds the write into the file itself
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    connection.close()
    before = rows(fresh_url)
    with pytest.raises(BackupError) as refused:
        restore(file, fresh_url)
    assert str(refused.value) == (
        f"{file}: the backup is from a newer sijcare (schema revision 0099; this one knows up "
        "to 0013): restore it with that version or a later one; nothing was changed")
    assert rows(fresh_url) == before

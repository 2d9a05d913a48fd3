"""Consistent online backups to a single SQLite file, and restoring one into any backend.

A backup is always a SQLite file at the schema head (with the patients' document files in a
table of their own, `documents.BACKUP_TABLE`): on SQLite it is made with the sqlite3
backup API; on PostgreSQL every table is read inside one REPEATABLE READ, READ ONLY
transaction, so the copy is one snapshot even while the clinic keeps working. Restoring
replaces everything in the target, audit chain included, with the backup's rows.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.engine import make_url

from sijcare.store import documents
from sijcare.store.db import (
    current_revision,
    head_revision,
    known_revision,
    make_engine,
    reading,
    reset,
    upgrade,
)
from sijcare.store.models import AuditHead, Base

_SQLITE_MAGIC = b"SQLite format 3\x00"
_BATCH = 1000


class BackupError(ValueError):
    """The source or target cannot be backed up or restored as asked."""


def backup(url: str, dest_path: str | Path) -> Path:
    """Copy the database at `url` into the SQLite file `dest_path` (replaced atomically).

    The copy holds every patient's record: it is created private (mode 0600) before a byte
    is written, and keeps that mode when it takes `dest_path`'s place.
    """
    dest = Path(dest_path)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    engine = make_engine(url)
    try:
        _require_head(engine, "the database")
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine, partial)
        else:
            _dump(engine, partial)
        _pack_documents(url, partial)
        os.replace(partial, dest)
    finally:
        engine.dispose()
        partial.unlink(missing_ok=True)
    return dest


def restore(src_path: str | Path, url: str) -> dict[str, int]:
    """Replace everything in the database at `url` with the backup; return rows per table."""
    source_file = Path(src_path)
    if not source_file.is_file():
        raise BackupError(f"{source_file}: no such backup file")
    if not _is_sqlite_file(source_file):
        raise BackupError(f"{source_file}: not a sijcare backup (expected a SQLite file)")
    with tempfile.TemporaryDirectory() as workdir:
        copy = Path(workdir) / "backup.db"
        shutil.copyfile(source_file, copy)  # upgrading an old backup must not change the file
        source, target = make_engine(f"sqlite:///{copy}"), make_engine(url)
        try:
            revision = current_revision(source)
            if revision is None:
                raise BackupError(f"{source_file}: not a sijcare backup (no schema revision)")
            if not known_revision(revision):
                raise BackupError(
                    f"{source_file}: the backup is from a newer sijcare (schema revision "
                    f"{revision}; this one knows up to {head_revision()}): restore it with "
                    "that version or a later one; nothing was changed")
            upgrade(source)
            with source.connect() as copying, target.begin() as writing:
                reset(writing)
                counts = _copy_tables(copying, writing)
                if writing.dialect.name == "postgresql":
                    _advance_sequences(writing)
            documents.unpack(copy, url)  # the files the restored rows name
        finally:
            source.dispose()
            target.dispose()
    return counts


def holds_data(url: str) -> bool:
    """Whether the database at `url` has any sijcare rows a restore would replace."""
    engine = make_engine(url)
    try:
        with reading(engine) as connection:
            present = set(inspect(connection).get_table_names())
            return any(
                connection.execute(select(1).select_from(table).limit(1)).first()
                for table in Base.metadata.sorted_tables
                if table.name in present and table is not AuditHead.__table__)
    finally:
        engine.dispose()


def _is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def _require_head(engine: Engine, what: str) -> None:
    at, head = current_revision(engine), head_revision()
    if at != head:
        shown = make_url(str(engine.url)).render_as_string(hide_password=True)
        raise BackupError(f"{what} at {shown} is at schema revision {at or 'none'}, not "
                          f"{head}; run `sijcare db upgrade` first")


def _pack_documents(url: str, copy: Path) -> None:
    """The files of the documents the copy names (read from the copy: the same snapshot)."""
    with sqlite3.connect(copy) as connection:
        hashes = [row[0] for row in connection.execute("SELECT sha256 FROM patient_documents")]
    connection.close()
    documents.pack(url, copy, hashes)


def _sqlite_backup(engine: Engine, dest: Path) -> None:
    with engine.connect() as connection:
        source = connection.connection.dbapi_connection
        target = sqlite3.connect(dest)
        try:
            source.backup(target)  # type: ignore[union-attr]
        finally:
            target.close()


def _dump(engine: Engine, dest: Path) -> None:
    target = make_engine(f"sqlite:///{dest}")
    try:
        upgrade(target)
        snapshot = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with snapshot as copying, copying.begin(), target.begin() as writing:
            copying.execute(text("SET TRANSACTION READ ONLY"))
            _copy_tables(copying, writing)
    finally:
        target.dispose()


def _copy_tables(copying: Connection, writing: Connection) -> dict[str, int]:
    """Every table, parents first, in primary-key order; the target's seed rows give way."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        writing.execute(table.delete())
        rows = copying.execute(select(table).order_by(*table.primary_key.columns)
                               .execution_options(yield_per=_BATCH))
        counts[table.name] = 0
        for batch in rows.partitions():
            writing.execute(table.insert(), [dict(row._mapping) for row in batch])
            counts[table.name] += len(batch)
    return counts


def _advance_sequences(writing: Connection) -> None:
    """Rows came with their ids; move each id sequence past them so new rows do not collide."""
    for table in Base.metadata.sorted_tables:
        if "id" in table.c:
            writing.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE(MAX(id), 0) + 1, false) FROM {table.name}"))

"""Where the database is, how to connect to it, and how to bring its schema to head.

The default is a SQLite file in the user's data directory, so `sijcare` works with no setup;
`SIJCARE_DATABASE_URL` (any SQLAlchemy URL) points it at PostgreSQL for a real clinic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

URL_ENV = "SIJCARE_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_READ_ONLY = "sijcare_read_only"


def data_dir() -> Path:
    """Where sijcare keeps its files: SIJCARE_DATA_DIR, else the user's data directory."""
    return Path(os.environ.get("SIJCARE_DATA_DIR") or user_data_dir("sijcare"))


def database_url() -> str:
    """`SIJCARE_DATABASE_URL` if set, else `sqlite:///<data dir>/sijcare.db`."""
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{data_dir() / 'sijcare.db'}"


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: `database_url()`); SQLite gets WAL and foreign keys."""
    parsed = make_url(url or database_url())
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        private_file(Path(parsed.database).expanduser())
    engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def private_file(path: Path) -> None:
    """Make a database file readable by its owner only (0600) before SQLite opens it, in a
    directory created 0700. SQLite gives the `-wal` and `-shm` files the database file's
    mode, so they are private too; a file left wider by an older version is narrowed."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for existing in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
        if existing.exists() and existing.stat().st_mode & 0o077:
            existing.chmod(0o600)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work during a write; SQLite leaves foreign keys off unless asked."""
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """BEGIN IMMEDIATE takes the write lock up front, so two transactions that read and then
    append to the audit chain queue behind each other instead of failing with SQLITE_BUSY.
    A connection from `reading()` only reads, so it begins deferred and never waits."""
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def reading(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite it does not queue behind open writes."""
    return engine.connect().execution_options(**{_READ_ONLY: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (the web layer renders them then)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    return Config(str(MIGRATIONS / "alembic.ini"))


def _migrate(connection: Connection, *steps: tuple[str, str]) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    for step, revision in steps:
        getattr(command, step)(config, revision)


def upgrade(engine: Engine) -> None:
    """Run the packaged Alembic migrations up to head on `engine`."""
    with engine.begin() as connection:
        _migrate(connection, ("upgrade", "head"))


def reset(connection: Connection) -> None:
    """Drop everything the migrations built and build it again, empty, inside the caller's
    transaction (so a restore that fails leaves the old database as it was)."""
    _migrate(connection, ("downgrade", "base"), ("upgrade", "head"))


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database Alembic never touched."""
    with reading(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()

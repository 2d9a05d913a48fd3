"""Where the database is, how to connect to it, and how to bring its schema to head.

The default is a SQLite file in the user's data directory, so `sijcare` works with no setup;
`SIJCARE_DATABASE_URL` (any SQLAlchemy URL) points it at PostgreSQL for a real clinic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

URL_ENV = "SIJCARE_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_READ_ONLY = "sijcare_read_only"


def data_dir() -> Path:
    """Where sijcare keeps its files: SIJCARE_DATA_DIR, else the user's data directory."""
    return Path(os.environ.get("SIJCARE_DATA_DIR") or user_data_dir("sijcare"))


def private_directory(path: Path) -> Path:
    """`path` as a directory only its owner may enter (0700): created so, or narrowed when
    it exists wider (0755 let anyone on the machine list the database, keys and backups)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_tree(path: Path) -> None:
    """Everything under `path` its owner's alone: directories 0700, files 0600 (for what a
    library wrote under the process umask, e.g. pyarrow's export files)."""
    for inside in path.rglob("*"):
        if not inside.is_symlink():
            inside.chmod(0o700 if inside.is_dir() else 0o600)


def database_url() -> str:
    """`SIJCARE_DATABASE_URL` if set, else `sqlite:///<data dir>/sijcare.db` (the data
    directory made private first)."""
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{private_directory(data_dir()) / 'sijcare.db'}"


def env_number(name: str, default: int, low: int, high: int) -> int:
    """A whole number from the environment variable `name` (ASCII digits only), or `default`
    when it is unset or blank; ValueError naming the variable when it is anything else."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}; got {text!r}")
    return int(text)


@dataclass(frozen=True)
class PoolLimits:
    """How many connections one process keeps (`size`), may open beyond them (`overflow`),
    and how long a request waits for one before failing (`timeout`, seconds)."""

    size: int
    overflow: int
    timeout: int

    @property
    def connections(self) -> int:
        return self.size + self.overflow


# Per database: a PostgreSQL connection is a server process, and the server's
# `max_connections` (100 by default) is shared by every sijcare process and other clients, so
# a process keeps 5 and opens at most 5 more under load. A SQLite connection is a file handle
# in this process: keep 10 open, since opening one also runs the pragmas below.
POOL_DEFAULTS = {"postgresql": PoolLimits(size=5, overflow=5, timeout=10),
                 "sqlite": PoolLimits(size=10, overflow=0, timeout=10)}


def pool_limits(url: str | None = None) -> PoolLimits:
    """The pool for `url`'s database: SIJCARE_DB_POOL_SIZE, SIJCARE_DB_MAX_OVERFLOW and
    SIJCARE_DB_POOL_TIMEOUT (seconds) where set, else the defaults for its kind."""
    backend = make_url(url or database_url()).get_backend_name()
    default = POOL_DEFAULTS.get(backend, POOL_DEFAULTS["postgresql"])
    return PoolLimits(size=env_number("SIJCARE_DB_POOL_SIZE", default.size, 1, 1000),
                      overflow=env_number("SIJCARE_DB_MAX_OVERFLOW", default.overflow, 0, 1000),
                      timeout=env_number("SIJCARE_DB_POOL_TIMEOUT", default.timeout, 1, 600))


def make_engine(url: str | None = None, pool: PoolLimits | None = None) -> Engine:
    """An engine for `url` (default: `database_url()`) with `pool`'s limits (default:
    `pool_limits(url)`); SQLite gets WAL and foreign keys."""
    parsed = make_url(url or database_url())
    memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    limits = pool or pool_limits(url)
    sizing = {} if memory else {"pool_size": limits.size, "max_overflow": limits.overflow,
                                "pool_timeout": limits.timeout}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **sizing)
    if not memory:
        private_file(Path(parsed.database).expanduser())
    engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False},
                           **sizing)
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


def insert_or(session: Session, table: Any) -> Any:
    """The INSERT of the session's dialect (both speak ON CONFLICT): one statement that
    cannot fail on a row another request wrote at the same moment."""
    dialect = session.get_bind().dialect.name
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](table)


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
    """Run the packaged Alembic migrations up to head on `engine`; when any ran on a database
    that held tables, derive again what the store derives from records (each procedure's
    stage at treatment, the email that confirmed each appointment request), through today's
    models, once the schema is whole. Every time, TOTP secrets still in the clear or under the
    previous TOTP key are encrypted under the current one (a key outside the database, so not
    a migration's work)."""
    from sijcare.store.appointments import link_confirmations  # they read through models
    from sijcare.store.totp_secrets import encrypt_stored_secrets
    from sijcare.store.treatment_stages import refresh_all_stages

    before = current_revision(engine)
    with engine.begin() as connection:
        _migrate(connection, ("upgrade", "head"))
        with Session(bind=connection) as session:
            if before is not None and before != head_revision():
                refresh_all_stages(session)
                link_confirmations(session)
            encrypt_stored_secrets(session)
            session.flush()


def reset(connection: Connection) -> None:
    """Drop everything the migrations built and build it again, empty, inside the caller's
    transaction (so a restore that fails leaves the old database as it was)."""
    _migrate(connection, ("downgrade", "base"), ("upgrade", "head"))


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def known_revision(revision: str) -> bool:
    """Whether this sijcare's migrations know `revision` (a newer release's do not)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database Alembic never touched."""
    with reading(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()

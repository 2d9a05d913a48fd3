"""The database's own integrity check, as run after a crash (`sijcare db check`, the stress
run): are the files and indexes whole, not only the rows the app reads?

SQLite: `PRAGMA integrity_check` (pages, every index against its table) and
`foreign_key_check`. PostgreSQL: every table read through, then, with the `amcheck` extension,
`bt_index_check` (with `heapallindexed`: every row has its index entry) over each B-tree index
of sijcare's tables and `verify_heapam` over the tables. amcheck ships with PostgreSQL but must
be installed in the database (`CREATE EXTENSION amcheck`, by a superuser); the check installs
it when it may, and otherwise says plainly that indexes were not verified, and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from sijcare.store.models import Base


@dataclass(frozen=True)
class IntegrityReport:
    """What was checked, how, and what is wrong (`ok` when nothing is)."""

    method: str
    problems: list[str] = field(default_factory=list)
    indexes_checked: int = 0
    tables_checked: int = 0
    amcheck: bool = False  # PostgreSQL: the indexes and tables were verified by amcheck

    @property
    def ok(self) -> bool:
        return not self.problems


def check_integrity(engine: Engine) -> IntegrityReport:
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            return _sqlite(connection)
    install_failure = _install_amcheck(engine)
    with engine.connect() as connection:
        return _postgresql(connection, install_failure)


def _sqlite(connection: Connection) -> IntegrityReport:
    found = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
    problems = [] if found == ["ok"] else found
    problems += [f"{table} row {rowid} names a missing {parent} row"
                 for table, rowid, parent, _ in connection.exec_driver_sql(
                     "PRAGMA foreign_key_check")]
    tables = len(Base.metadata.sorted_tables)
    return IntegrityReport("SQLite integrity_check and foreign_key_check", problems,
                           tables_checked=tables)


def _postgresql(connection: Connection, install_failure: str) -> IntegrityReport:
    tables = {table.name: connection.scalar(text("SELECT to_regclass(:name)::oid"),
                                            {"name": table.name})
              for table in Base.metadata.sorted_tables}
    problems = [f"table {name} is missing" for name, oid in tables.items() if oid is None]
    for name, oid in tables.items():  # every row read, as the store would
        if oid is not None:
            problems += _attempt(connection, f"reading table {name}",
                                 f'SELECT count(*) FROM "{name}"')
    oids = [oid for oid in tables.values() if oid is not None]
    indexes = connection.execute(text(
        "SELECT i.indexrelid::oid, c.relname FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
        "WHERE am.amname = 'btree' AND i.indrelid = ANY(:tables) ORDER BY c.relname"),
        {"tables": oids}).all()
    schema, why_not = _usable_amcheck(connection, indexes[0][0] if indexes else None)
    if schema is None:
        why_not = why_not or install_failure or "not installed"
        return IntegrityReport(f"PostgreSQL: tables read through; indexes NOT verified "
                               f"(amcheck is not available: {why_not})", problems,
                               tables_checked=len(tables))
    for oid, name in indexes:
        problems += _attempt(connection, f"index {name}",
                             f'SELECT "{schema}".bt_index_check({oid}::regclass, true)')
    heap = connection.scalar(text(
        "SELECT count(*) FROM pg_proc WHERE proname = 'verify_heapam'"
        " AND pronamespace = CAST(:schema AS regnamespace)"), {"schema": schema})
    if heap:
        for name, oid in tables.items():
            if oid is not None:
                problems += [f"table {name}, block {block}: {message}"
                             for block, _, _, message in connection.execute(text(
                                 f'SELECT * FROM "{schema}".verify_heapam({oid}::regclass)'))]
    return IntegrityReport(
        f"PostgreSQL amcheck: bt_index_check with heapallindexed over {len(indexes)} "
        f"indexes{', verify_heapam over ' + str(len(oids)) + ' tables' if heap else ''}",
        problems, len(indexes), len(tables), amcheck=True)


def _install_amcheck(engine: Engine) -> str:
    """Install amcheck if it is not (committed on its own); why not, or ""."""
    try:
        with engine.begin() as connection:
            if _installed(connection) is None:
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
    except DBAPIError as error:
        return _reason(error)
    return ""


def _usable_amcheck(connection: Connection, probe: int | None) -> tuple[str | None, str]:
    """The schema of amcheck's functions, if installed and this role may call them; else
    None and why not."""
    schema = _installed(connection)
    if schema is None:
        return None, ""
    if probe is not None:
        problem = _attempt(connection, "amcheck",
                           f'SELECT "{schema}".bt_index_check({probe}::regclass)')
        if problem:
            return None, problem[0].removeprefix("amcheck: ")
    return schema, ""


def _installed(connection: Connection) -> str | None:
    return connection.scalar(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'amcheck'"))


def _attempt(connection: Connection, what: str, sql: str) -> list[str]:
    """`sql` in a savepoint: nothing, or the problem it raised (the check goes on)."""
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(sql).all()
    except DBAPIError as error:
        return [f"{what}: {_reason(error)}"]
    return []


def _reason(error: DBAPIError) -> str:
    return str(error.orig or error).strip().splitlines()[0]

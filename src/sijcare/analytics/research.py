"""DuckDB over the research export: the path for a registry that outgrows one database server.

Each exported table becomes a view over its Parquet partitions, named as in the clinic
database, so `registry_figures` runs unchanged (through the duckdb-engine SQLAlchemy dialect).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import StaticPool

from sijcare.analytics.export import TABLES

SIZE = re.compile(r"\d+(\.\d+)?\s?[KMGT]i?B")


def _quoted(path: Path) -> str:
    return path.as_posix().replace("'", "''")


@contextmanager
def research_connection(directory: Path, *, memory_limit: str | None = None,
                        spill_to: Path | None = None) -> Iterator[Connection]:
    """An in-memory DuckDB whose tables are the export's Parquet files in `directory`.

    With `memory_limit` (e.g. "1GB") DuckDB keeps under it, writing what does not fit to
    `spill_to` (default: `.tmp` in the working directory), so a registry far larger than
    the machine's memory can still be analysed.
    """
    engine = create_engine("duckdb:///:memory:", poolclass=StaticPool)
    try:
        with engine.connect() as connection:
            if memory_limit:
                if not SIZE.fullmatch(memory_limit):
                    raise ValueError(f"memory_limit: {memory_limit!r} is not a size like 1GB")
                connection.execute(text(f"SET memory_limit = '{memory_limit}'"))
                connection.execute(text("SET preserve_insertion_order = false"))
            if spill_to:
                connection.execute(text(f"SET temp_directory = '{_quoted(spill_to)}'"))
            for name in TABLES:
                files = _quoted(directory / "parquet" / name)
                connection.execute(text(
                    f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{files}/**/*.parquet', "
                    "hive_partitioning = true)"))
            yield connection
    finally:
        engine.dispose()

"""DuckDB over the research export: the path for a registry that outgrows one database server.

Each exported table becomes a view over its Parquet partitions, named as in the clinic
database, so `registry_figures` runs unchanged (through the duckdb-engine SQLAlchemy dialect).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import StaticPool

from sijcare.analytics.export import TABLES


@contextmanager
def research_connection(directory: Path, *, memory_limit: str | None = None,
                        ) -> Iterator[Connection]:
    """An in-memory DuckDB whose tables are the export's Parquet files in `directory`."""
    engine = create_engine("duckdb:///:memory:", poolclass=StaticPool)
    try:
        with engine.connect() as connection:
            if memory_limit:
                connection.execute(text(f"SET memory_limit = '{memory_limit}'"))
            for name in TABLES:
                files = (directory / "parquet" / name).as_posix().replace("'", "''")
                connection.execute(text(
                    f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{files}/**/*.parquet', "
                    "hive_partitioning = true)"))
            yield connection
    finally:
        engine.dispose()

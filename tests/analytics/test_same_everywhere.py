"""The registry's figures are the same on SQLite, PostgreSQL and DuckDB over the export.

The export shifts each patient's dates, so which follow-up windows have closed by a day can
only agree once that day is past every shifted window: the export is compared at `LATER`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sqlite3
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from sqlalchemy import Engine, select

from sijcare.analytics.export import Deidentifier
from sijcare.analytics.queries import Filters
from sijcare.analytics.registry import RegistryFigures, registry_figures
from sijcare.analytics.research import research_connection
from sijcare.analytics.tables import database_tables, export_tables
from sijcare.store import make_engine
from sijcare.store.models import ProcedureRecord
from tests.analytics.conftest import KEY, TODAY, fill
from tests.store.helpers import fresh_database, migrated

LATER = TODAY + dt.timedelta(days=730 + 28 + 183)  # past every shifted window


def plain(value: object) -> object:
    """Figures as nested builtins, floats rounded so sums in another order compare equal."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    return value


STAGE = Filters(stage="interventional_treatment")


def figures_of(engine: Engine, as_of: dt.date = TODAY,
               filters: Filters | None = None) -> RegistryFigures:
    with engine.connect() as connection:
        return registry_figures(connection, database_tables(), filters, as_of=as_of)


def due(figures: RegistryFigures) -> dict[tuple[str, str], int]:
    return {(kind, p.point): p.due for kind, t in figures.treatments.items() for p in t.points}


def test_sqlite_and_duckdb_over_the_export_agree(cohort_sqlite: Engine,
                                                   cohort_export: Path) -> None:
    expected = figures_of(cohort_sqlite, LATER)
    with research_connection(cohort_export) as connection:
        found = registry_figures(connection, export_tables(), as_of=LATER)
    assert plain(found) == plain(expected)
    assert len(expected.treatments) == 6  # every kind of procedure was drawn
    assert all(t.durability and t.durability.n > 0 for t in expected.treatments.values())


def test_postgresql_agrees_with_sqlite(cohort_sqlite: Engine, tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        engine = migrated(url)
        try:
            fill(engine)
            assert plain(figures_of(engine)) == plain(figures_of(cohort_sqlite))
            assert plain(figures_of(engine, filters=STAGE)) == plain(
                figures_of(cohort_sqlite, filters=STAGE))
        finally:
            engine.dispose()


def without_suppressed_sides(cohort: Engine, export: Path, directory: Path) -> Engine:
    """A copy of the cohort's database where a side the export suppressed (so that every
    patient shares their values with 4 others, `analytics/anonymity.py`) is unrecorded too."""
    d = Deidentifier(KEY)
    with cohort.connect() as connection:
        sides = dict(connection.execute(select(ProcedureRecord.id, ProcedureRecord.side)).all())
    ids = {d.id("procedure", i): i for i in sides}
    exported = ds.dataset(export / "parquet" / "procedures", format="parquet",
                          partitioning="hive").to_table(columns=["id", "side"]).to_pylist()
    suppressed = [ids[row["id"]] for row in exported
                  if row["side"] is None and sides[ids[row["id"]]] is not None]
    assert len(suppressed) < 0.05 * len(sides)  # only a kind and side rare in every clinic
    copy = directory / "copy.db"
    with sqlite3.connect(cohort.url.database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute(f"UPDATE procedures SET side = NULL WHERE id IN "
                       f"({','.join(map(str, suppressed))})")
    return make_engine(f"sqlite:///{copy}")


def test_filters_narrow_the_same_way_everywhere(cohort_sqlite: Engine, cohort_export: Path,
                                                tmp_path: Path) -> None:
    with cohort_sqlite.connect() as connection:
        everyone = registry_figures(connection, database_tables(), as_of=LATER)
        left = registry_figures(connection, database_tables(), Filters(side="left"), LATER)
    as_exported = without_suppressed_sides(cohort_sqlite, cohort_export, tmp_path)
    with as_exported.connect() as connection:
        left_as_exported = registry_figures(connection, database_tables(),
                                            Filters(side="left"), LATER)
    as_exported.dispose()
    with research_connection(cohort_export) as connection:
        left_export = registry_figures(connection, export_tables(), Filters(side="left"), LATER)
    assert plain(left_as_exported) == plain(left_export)
    for kind, treatment in left.treatments.items():
        for point in treatment.points:
            assert point.due <= everyone.treatments[kind].at(point.point).due
    assert sum(p.due for t in left.treatments.values() for p in t.points) < sum(
        p.due for t in everyone.treatments.values() for p in t.points)


def test_the_stage_filter_splits_the_figures_the_same_way_everywhere(
        cohort_sqlite: Engine, cohort_export: Path) -> None:
    with research_connection(cohort_export) as connection:
        exported = registry_figures(connection, export_tables(), STAGE, LATER)
    assert plain(exported) == plain(figures_of(cohort_sqlite, LATER, STAGE))
    by_stage = [due(figures_of(cohort_sqlite, LATER, Filters(stage=stage)))
                for stage in ("interventional_treatment", "diagnostic_block",
                              "evaluate_other_source")]
    assert all(by_stage) and len(by_stage[0]) > 10  # each stage treated someone
    everyone = due(figures_of(cohort_sqlite, LATER))
    assert {key: sum(d.get(key, 0) for d in by_stage) for key in everyone} == everyone
    assert due(figures_of(cohort_sqlite, LATER, Filters(stage="surgical_evaluation"))) == {}


@pytest.mark.parametrize("seed", [1, 2])
def test_same_seed_same_cohort(seed: int, tmp_path: Path) -> None:
    results = []
    for run in ("a", "b"):
        engine = migrated(f"sqlite:///{tmp_path / f'{run}.db'}")
        fill(engine, n=60, seed=seed)
        results.append(plain(figures_of(engine)))
        engine.dispose()
    assert results[0] == results[1]


def test_a_memory_limit_changes_nothing_but_memory(cohort_sqlite: Engine, cohort_export: Path,
                                                    tmp_path: Path) -> None:
    with research_connection(cohort_export) as connection:
        free = registry_figures(connection, export_tables(), as_of=LATER)
    with research_connection(cohort_export, memory_limit="256MB",
                             spill_to=tmp_path / "spill") as connection:
        limit = connection.exec_driver_sql("SELECT current_setting('memory_limit')").scalar()
        held = registry_figures(connection, export_tables(), as_of=LATER)
    assert limit == "244.1 MiB"  # DuckDB reads MB as 10^6 bytes and shows MiB
    assert plain(held) == plain(free)


@pytest.mark.parametrize("size", ["lots", "1GB'; DROP VIEW procedures; --", ""])
def test_a_memory_limit_must_be_a_size(cohort_export: Path, size: str) -> None:
    with (pytest.raises(ValueError, match="memory_limit"),
          research_connection(cohort_export, memory_limit=size or "GB")):
        pass

"""A synthetic cohort in a database per backend, and its research export, built once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from sijcare.analytics.cohort import store_cohort
from sijcare.analytics.export import export_research
from tests.store.helpers import fresh_database, migrated

TODAY = dt.date(2026, 11, 1)
SEED = 11
PATIENTS = 400
KEY = bytes(range(32))


def fill(engine: Engine, n: int = PATIENTS, seed: int = SEED) -> None:
    """The cohort, with its procedure outcome records, as `sijcare demo-data` stores it."""
    with Session(engine) as session:
        store_cohort(session, n, seed=seed, today=TODAY, batch=150)
        session.commit()


@pytest.fixture(scope="session")
def cohort_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_database("sqlite", tmp_path_factory.mktemp("cohort")) as url:
        engine = migrated(url)
        fill(engine)
        yield engine
        engine.dispose()


@pytest.fixture(scope="session")
def cohort_export(cohort_sqlite: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("export")
    with cohort_sqlite.connect() as connection:
        export_research(connection, directory, KEY)
    return directory

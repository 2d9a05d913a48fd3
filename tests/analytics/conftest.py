"""A synthetic cohort in a database per backend, and its research export, built once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sijcare.analytics.cohort import store_cohort
from sijcare.analytics.export import export_research
from sijcare.store import add_record
from sijcare.store.models import ProcedureRecord
from tests.store.helpers import fresh_database, migrated

TODAY = dt.date(2026, 11, 1)
SEED = 11
PATIENTS = 400
KEY = bytes(range(32))


def fill(engine: Engine, n: int = PATIENTS, seed: int = SEED) -> None:
    """The cohort, and outcome records at 6 weeks for every seventh procedure."""
    with Session(engine) as session:
        store_cohort(session, n, seed=seed, today=TODAY, batch=150)
        procedures = session.execute(select(ProcedureRecord).order_by(
            ProcedureRecord.date, ProcedureRecord.kind, ProcedureRecord.episode_id)).scalars()
        for number, procedure in enumerate(procedures):
            day = procedure.date + dt.timedelta(days=42)
            if number % 7 or day > TODAY:
                continue
            add_record(session, procedure.episode_id, "procedure_outcome", {
                "procedure_id": procedure.id, "date": day.isoformat(),
                "relief_percent": (number * 13) % 101, "pgic": 1 + number % 7},
                procedure.recorded_by, day)
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

"""Helpers shared by the store tests: empty databases on either backend, a small world."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import Session

from sijcare.store import (
    create_clinic,
    create_episode,
    create_patient,
    create_user,
    make_engine,
    upgrade,
)

PG_ENV = "SIJCARE_TEST_PG_URL"
NO_PG = (f"{PG_ENV} is not set: the PostgreSQL half of the store tests did NOT run "
         f"(e.g. {PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test)")
TODAY = dt.date(2026, 11, 1)


@contextmanager
def clinic_with_clinician(path: Path, clinic: str = "Import Clinic"
                          ) -> Iterator[tuple[Session, int, int]]:
    """A new SQLite database at `path` with one clinic and one clinician of it, "importer":
    (a session, the clinic's id, the clinician's id)."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    try:
        with Session(engine) as session:
            made = create_clinic(session, clinic)
            user = create_user(session, "importer", "x", "clinician", [made.id])
            session.commit()
            yield session, made.id, user.id
    finally:
        engine.dispose()


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'sijcare.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(NO_PG)
    schema = f"sijcare_test_{secrets.token_hex(6)}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield make_url(base).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def migrated(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


@dataclass(frozen=True)
class World:
    """A clinic with one clinician, one patient and one open episode (committed)."""

    clinic_id: int
    user_id: int
    patient_id: int
    episode_id: int


def make_world(session: Session, birth_date: str = "1970-05-01") -> World:
    tag = secrets.token_hex(4)
    clinic = create_clinic(session, f"Clinic {tag}")
    user = create_user(session, f"clinician_{tag}", "$argon2id$stub", "clinician", [clinic.id])
    patient = create_patient(session, clinic.id, {
        "given_name": "Ada", "family_name": f"Tester {tag}", "birth_date": birth_date,
        "sex": "female", "external_id": f"ext-{tag}"}, user.id)
    episode = create_episode(session, patient.id, {
        "complaint": "Left SI-joint pain", "opened_on": "2026-01-10"}, user.id)
    session.commit()
    return World(clinic.id, user.id, patient.id, episode.id)

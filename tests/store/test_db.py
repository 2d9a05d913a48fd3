"""Where the database lives by default, and the SQLite settings the store relies on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from platformdirs import user_data_dir
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from sijcare.store import Episode, database_url, make_engine


def test_default_database_is_a_sqlite_file_in_the_user_data_dir(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIJCARE_DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{Path(user_data_dir('sijcare')) / 'sijcare.db'}"
    monkeypatch.setenv("SIJCARE_DATABASE_URL", " postgresql+psycopg://db/clinic ")
    assert database_url() == "postgresql+psycopg://db/clinic"


def test_sqlite_file_is_created_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'dir' / 'clinic.db'}")
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    engine.dispose()
    assert (mode, keys) == ("wal", 1)
    assert (tmp_path / "new" / "dir" / "clinic.db").is_file()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(Episode.__table__).values(
            patient_id=10**9, complaint="orphan", opened_on=dt.date(2026, 1, 1),
            created_at=dt.datetime(2026, 1, 1)))


def test_default_database_lives_in_the_data_dir(monkeypatch, tmp_path):
    from sijcare.store.db import database_url

    monkeypatch.delenv("SIJCARE_DATABASE_URL", raising=False)
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path))
    assert database_url() == f"sqlite:///{tmp_path / 'sijcare.db'}"

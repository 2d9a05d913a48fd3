"""Issue 20, L9: what sijcare writes to disk is its owner's alone.

The research export's files were world-readable (0644 under the usual umask), and a data
directory that already existed with mode 0755 kept it, so anyone on the machine could list the
database, the keys and the backups in it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sijcare.analytics.export import export_research
from sijcare.store import database_url
from sijcare.store.synthetic import generate_synthetic
from sijcare.web.settings import Settings
from tests.store.helpers import migrated

KEY = bytes.fromhex("5a" * 32)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems run with: new files 0644, directories 0755."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_the_research_export_is_private(tmp_path: Path, usual_umask: None) -> None:
    engine = migrated(f"sqlite:///{tmp_path / 'db' / 'sijcare.db'}")
    with Session(engine) as session:  # enough patients that the export holds rows
        generate_synthetic(session, 40, seed=3)
        session.commit()
    out = tmp_path / "export"
    out.mkdir(mode=0o755)
    with engine.connect() as connection:
        export_research(connection, out, KEY)
    engine.dispose()
    written = list(out.rglob("*"))
    assert any(p.suffix == ".parquet" for p in written) and any(p.suffix == ".csv"
                                                                 for p in written)
    assert mode(out) == 0o700  # an existing, wider directory is narrowed
    for path in written:
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_an_existing_data_directory_is_narrowed(tmp_path: Path, usual_umask: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(data))
    monkeypatch.delenv("SIJCARE_DATABASE_URL", raising=False)
    monkeypatch.delenv("SIJCARE_SECRET_KEY", raising=False)
    assert database_url() == f"sqlite:///{data / 'sijcare.db'}"
    assert mode(data) == 0o700
    data.chmod(0o755)
    Settings.from_env(database_url())  # `serve`: the secret key goes into it
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600


def test_a_new_data_directory_is_private(tmp_path: Path, usual_umask: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path / "new" / "data"))
    monkeypatch.delenv("SIJCARE_DATABASE_URL", raising=False)
    database_url()
    assert mode(tmp_path / "new" / "data") == 0o700

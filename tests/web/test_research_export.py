"""The research export from the registry page: researchers download the de-identified
tables as a zip, audited as an export; nobody else may."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.analytics.cohort import store_cohort
from sijcare.store import AuditEvent
from tests.web.conftest import TODAY, World


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path / "data"))  # the export key's home


def test_a_researcher_downloads_the_export_and_it_is_audited(
        clients: dict[str, TestClient], world: World) -> None:
    with Session(world.engine) as session:
        store_cohort(session, 30, seed=1, today=TODAY)
        session.commit()
    page = clients["researcher"].get("/registry").text
    assert 'href="/registry/research-export.zip"' in page
    answer = clients["researcher"].get("/registry/research-export.zip")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert any(n.endswith(".csv") for n in names) and any(n.endswith(".parquet") for n in names)
    assert not any("key" in n for n in names)
    with world.sessions() as db:
        exported = db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "research_export")).all()
    assert exported and exported[-1].detail["via"] == "registry.research_export"
    assert "research-export.zip" not in clients["clinician"].get("/registry").text
    for other in ("clinician", "staff", "admin"):
        assert clients[other].get("/registry/research-export.zip").status_code == 403

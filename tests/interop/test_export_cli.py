"""`sijcare export fhir`: a Bundle file, Bulk Data NDJSON, one error line per bad input,
and an audit entry per export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sijcare.cli import app
from sijcare.store import AuditEvent, load_demo, make_engine, upgrade

runner = CliRunner()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.db'}"
    engine = make_engine(target)
    upgrade(engine)
    with Session(engine) as session:
        load_demo(session, n=2)
        session.commit()
    engine.dispose()
    return target


def exports(url: str) -> list[AuditEvent]:
    engine = make_engine(url)
    with Session(engine) as session:
        found = session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    engine.dispose()
    return list(found)


def test_patient_bundle_to_a_private_file(url: str, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    result = runner.invoke(app, ["export", "fhir", "--patient", "1", "-o", str(out),
                                 "--url", url, "--base", "https://clinic.example/fhir"])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["resourceType"] == "Bundle" and document["type"] == "collection"
    assert document["entry"][1]["fullUrl"] == "https://clinic.example/fhir/Patient/1"
    assert out.stat().st_mode & 0o777 == 0o600
    assert ("patient", "1") in {(e.object_type, e.object_id) for e in exports(url)}


def test_episode_bundle_on_standard_output(url: str) -> None:
    result = runner.invoke(app, ["export", "fhir", "--episode", "2", "--url", url])
    assert result.exit_code == 0, result.output
    kinds = {e["resource"]["resourceType"] for e in json.loads(result.stdout)["entry"]}
    assert {"Patient", "Condition", "Observation", "QuestionnaireResponse"} <= kinds


def test_everything_as_ndjson(url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "fhir", "--all", "-o", str(tmp_path / "bulk"),
                                 "--url", url])
    assert result.exit_code == 0, result.output
    patients = (tmp_path / "bulk" / "Patient.ndjson").read_text().splitlines()
    assert [json.loads(p)["id"] for p in patients] == ["1", "2"]
    assert (tmp_path / "bulk" / "Questionnaire.ndjson").exists()
    assert "fhir_bulk" in {e.object_type for e in exports(url)}


@pytest.mark.parametrize(("args", "problem"), [
    ([], "name exactly one of --episode ID, --patient ID or --all"),
    (["--patient", "1", "--episode", "2"], "name exactly one"),
    (["--all"], "name the directory with -o DIR"),
    (["--patient", "99"], "no patient 99"),
    (["--episode", "99"], "no episode 99"),
    (["--episode", "x"], "--episode:"),
])
def test_bad_input_is_one_error_line(url: str, args: list[str], problem: str) -> None:
    result = runner.invoke(app, ["export", "fhir", *args, "--url", url])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and problem in lines[0]
    assert "Traceback" not in result.output

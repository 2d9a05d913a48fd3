"""The three reports render as PDF, and are looked at as images (pdftoppm into test-artifacts/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sijcare.analytics.cohort import store_cohort
from sijcare.analytics.queries import Filters
from sijcare.analytics.view import registry_view
from sijcare.cli import app
from sijcare.reports.pdf import episode_report, prior_auth_report, registry_report
from sijcare.store import load_demo
from sijcare.store.models import Episode
from tests.analytics.conftest import TODAY
from tests.store.helpers import migrated

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                    reason="poppler's pdftoppm is not installed")


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory):
    engine = migrated(f"sqlite:///{tmp_path_factory.mktemp('reports') / 'sijcare.db'}")
    with Session(engine) as session:
        store_cohort(session, 80, seed=2, today=TODAY)
        patients = load_demo(session, today=TODAY)
        session.commit()
        injected = next(p.episodes[0].id for p in patients
                        if "after injection" in p.episodes[0].complaint)
    yield engine, injected
    engine.dispose()


def pages(pdf: bytes, name: str) -> list[np.ndarray]:
    """Render every page to PNG in test-artifacts/ and read them back as pixels."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(ARTIFACTS / f"{name}.pdf"),
                    str(ARTIFACTS / name)], check=True)
    return [image.imread(p) for p in sorted(ARTIFACTS.glob(f"{name}-*.png"))]


def inked(page: np.ndarray) -> float:
    """The share of the page that is not white: text, tables and charts."""
    return float((page[..., :3].mean(axis=2) < 0.9).mean())


@needs_pdftoppm
def test_registry_report_renders(clinic) -> None:
    engine, _ = clinic
    with engine.connect() as connection:
        report = registry_report(connection, Filters(), suppress=False)
    assert "Kaplan-Meier" in report.html and "Cohen 2008" in report.html
    assert report.html.count("data:image/png;base64,") == 4
    rendered = pages(report.pdf, "registry-report")
    assert len(rendered) >= 2
    assert inked(rendered[0]) > 0.05  # the KM chart and its table fill the first page


@needs_pdftoppm
def test_episode_report_renders(clinic) -> None:
    engine, episode_id = clinic
    with Session(engine) as session:
        report = episode_report(session, episode_id)
        complaint = session.get(Episode, episode_id).complaint
    assert complaint in report.html and "Synthetic" in report.html
    assert "No assessment has been signed." in report.html
    rendered = pages(report.pdf, "episode-report")
    assert inked(rendered[0]) > 0.05


@needs_pdftoppm
def test_prior_auth_packet_renders(clinic) -> None:
    engine, episode_id = clinic
    with Session(engine) as session:
        report = prior_auth_report(session, episode_id, "therapeutic_sij_injection",
                                   "medicare", TODAY)
    for expected in ("27096", "G0260", "M46.1", "Criteria", "Still missing",
                     "Evidence positions", "Documentation on file"):
        assert expected in report.html
    assert "Diagnostic block (fluoroscopy)" in report.html  # the block behind a criterion
    assert "Not met: " in report.html  # the repeat needs 12 weeks of relief; 8 so far
    rendered = pages(report.pdf, "prior-auth")
    assert inked(rendered[0]) > 0.05


def test_prior_auth_rejects_unknown_option_and_policy(clinic) -> None:
    engine, episode_id = clinic
    with Session(engine) as session:
        with pytest.raises(ValueError, match="option"):
            prior_auth_report(session, episode_id, "acupuncture", "medicare")
        with pytest.raises(ValueError, match="policy"):
            prior_auth_report(session, episode_id, "sij_rfa", "nobody")


def test_report_commands(clinic, tmp_path: Path) -> None:
    engine, episode_id = clinic
    url = str(engine.url)
    runner = CliRunner()
    html = tmp_path / "episode.html"
    done = runner.invoke(app, ["report", "episode", str(episode_id), "-o", str(html),
                               "--url", url])
    assert done.exit_code == 0, done.output
    assert html.read_text().startswith("<!doctype html>")
    assert html.stat().st_mode & 0o777 == 0o600  # it names the patient
    html.chmod(0o644)
    assert runner.invoke(app, ["report", "episode", str(episode_id), "-o", str(html),
                               "--url", url]).exit_code == 0
    assert html.stat().st_mode & 0o777 == 0o600  # narrowed again when overwritten
    with Session(engine) as session:
        missing = 1 + session.scalar(select(Episode.id).order_by(Episode.id.desc()).limit(1))
    bad = [["report", "episode", str(missing)],
           ["report", "prior-auth", str(episode_id), "--option", "acupuncture"],
           ["report", "registry", "--from", "2026-05-01", "--to", "2026-01-01"],
           ["report", "registry", "--from", "May"]]
    for args in bad:
        result = runner.invoke(app, [*args, "-o", str(tmp_path / "x.pdf"), "--url", url])
        assert result.exit_code == 2, (args, result.output)


def test_registry_command_filters_by_stage(clinic, tmp_path: Path) -> None:
    engine, _ = clinic
    html = tmp_path / "registry.html"
    done = CliRunner().invoke(app, ["report", "registry", "--stage", "diagnostic_block",
                                    "-o", str(html), "--url", str(engine.url)])
    assert done.exit_code == 0, done.output
    text = html.read_text()
    assert "Procedures of every date, at the stage diagnostic block when treated;" in text
    with engine.connect() as connection:
        staged = registry_view(connection, Filters(stage="diagnostic_block"), suppress=False)
        everyone = registry_view(connection, Filters(), suppress=False)
    assert staged.durability and staged.durability != everyone.durability
    for d in staged.durability:
        assert f"<td>{d.n}</td><td>{d.events}</td><td>{d.median}</td>" in text


def test_registry_command_refuses_an_unknown_stage(clinic, tmp_path: Path) -> None:
    engine, _ = clinic
    done = CliRunner().invoke(app, ["report", "registry", "--stage", "Diagnostic block",
                                    "-o", str(tmp_path / "r.pdf"), "--url", str(engine.url)])
    assert (done.exit_code, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: --stage: 'Diagnostic block' is not a stage; one of: "
                                  "urgent_referral, ")
    assert not (tmp_path / "r.pdf").exists()


def test_the_kaplan_meier_legend_sits_below_the_curves(clinic) -> None:
    """The legend once covered the curves (upper right); now it is below the plotting area,
    and the bands are light enough that the curves stay on top."""
    engine, _ = clinic
    with engine.connect() as connection:
        view = registry_view(connection, Filters(), suppress=False)
    chart = view.charts["durability"]
    axes = chart.figure.axes[0]
    legend = axes.get_legend()
    assert legend is not None
    assert "<svg" in chart.svg  # drawn, so the boxes below are where they are shown
    renderer = chart.figure._get_renderer()
    assert legend.get_window_extent(renderer).y1 < axes.get_window_extent(renderer).y0
    bands = [c for c in axes.collections if hasattr(c, "get_alpha")]
    assert bands and all((c.get_alpha() or 1) <= 0.1 for c in bands)

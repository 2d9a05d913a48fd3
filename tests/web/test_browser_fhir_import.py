"""The FHIR import in Chromium: a clinician uploads the demo's Bulk Data export, reads the
summary (counts, what was not imported and why), reviews one patient's imported intake and
examination, and sees the episode's assessment move on once they count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sijcare.interop.fhir.export import bulk_export
from sijcare.store import load_demo, make_engine, upgrade
from tests.web.browsing import ARTIFACTS, CHROMIUM, browser, served, sign_in
from tests.web.conftest import World, build_world

if not CHROMIUM.exists():
    pytest.skip("!!! /usr/bin/chromium is MISSING: the browser tests did NOT run "
                "(apt-get install chromium) !!!", allow_module_level=True)

from playwright.sync_api import Browser, expect

__all__ = ["browser"]  # the shared Chromium fixture


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("demo")
    engine = make_engine(f"sqlite:///{directory / 'demo.db'}")
    upgrade(engine)
    with Session(engine) as session:
        load_demo(session)
        session.commit()
        bulk_export(session, directory / "out")
    engine.dispose()
    return sorted((directory / "out").glob("*.ndjson"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = build_world(tmp_path_factory.mktemp("import"))
    with served(world) as base:
        yield base, world
    world.engine.dispose()


def test_upload_the_demo_export_review_a_patient_and_see_the_assessment_change(
        site: tuple[str, World], browser: Browser, export: list[Path]) -> None:
    base, _ = site
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, base, "clinician")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Files").set_input_files([str(p) for p in export])
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="FHIR import: summary")).to_be_visible()
    counts = page.locator("#import-counts")
    expect(counts.get_by_role("row", name="Patients new")).to_contain_text("8")
    expect(page.locator("#not-imported tbody tr").first).to_be_visible()
    expect(page.locator("#not-imported")).to_contain_text("is about no patient of the file")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename == "fhir-import-report.csv"
    page.screenshot(path=str(ARTIFACTS / "fhir-import-summary.png"), full_page=True)

    page.get_by_role("link", name="Review the imported records").click()
    page.locator("#awaiting-review tr", has_text="Patient 01").get_by_role("link").nth(1).click()
    episode = page.url.removesuffix("/review")
    page.goto(episode)
    stage_before = page.locator("#stage .name").inner_text()
    heading = page.locator("#unreviewed-heading").inner_text()
    waiting = int(heading.removeprefix("Imported, not reviewed (").removesuffix(")"))
    assert waiting >= 2

    page.goto(f"{episode}/review")
    for kind in ("Intake", "Exam"):
        item = page.locator("#review-items > li", has_text=kind).first
        item.get_by_role("button", name="Accept").click()
        expect(page.locator(".flash")).to_contain_text(
            "Imported record accepted")
    page.screenshot(path=str(ARTIFACTS / "fhir-import-review.png"), full_page=True)

    page.goto(episode)
    expect(page.locator("#unreviewed-heading")).to_have_text(
        f"Imported, not reviewed ({waiting - 2})")
    expect(page.locator("#stage .name")).not_to_have_text(stage_before)

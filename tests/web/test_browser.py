"""The clinic's day in a real browser: Debian's Chromium driving the real app over HTTP.

A clinician registers a patient, records an examination, a course of care and a block with
its diary, watches the stage move along the pathway with its sources, and signs; a staff
user of another clinic cannot open that patient.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.web.browsing import ARTIFACTS, CHROMIUM, browser
from tests.web.browsing import served as serving
from tests.web.conftest import PASSWORD, TODAY, World, build_world

if not CHROMIUM.exists():
    pytest.skip("!!! /usr/bin/chromium is MISSING: the browser tests did NOT run "
                "(apt-get install chromium) !!!", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


__all__ = ["ARTIFACTS", "browser"]  # for the modules that share this one's fixtures


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """The app under uvicorn on a free loopback port, in a background thread."""
    world = build_world(tmp_path_factory.mktemp("browser"))
    with serving(world) as base:
        yield base, world
    world.engine.dispose()


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def stage(page: Page) -> str:
    return page.locator("#stage .name").inner_text()


def record(page: Page, title: str) -> None:
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)


def test_a_clinician_works_up_a_patient_and_signs(served: tuple[str, World],
                                                  browser: Browser) -> None:
    base, _ = served
    page = browser.new_page(viewport={"width": 1024, "height": 1366})  # a tablet, upright
    sign_in(page, base, "clinician")
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()

    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Family name").fill("Browser")
    page.get_by_label("Given name").fill("Bea")
    page.get_by_label("Date of birth", exact=True).fill("1968-04-12")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_have_text("Patient registered.")

    page.get_by_label("Complaint").fill("Left buttock pain after a fall")
    page.get_by_label("Opened on").fill(ago(130))
    page.get_by_role("button", name="Open episode").click()
    assert stage(page) == "Complete the examination"

    # ENGINE-RULES v3 stage 2: the red-flag screen comes before anything else
    record(page, "Intake and history")
    page.get_by_role("group", name="Red flags present").get_by_label(
        "None of these (asked)").check()
    page.get_by_role("button", name="Save intake and history").click()
    expect(page.get_by_role("status")).to_have_text("Intake and history saved.")
    assert stage(page) == "Complete the examination"

    record(page, "Examination")
    for test in ("Distraction (gapping)", "Thigh thrust (posterior shear)", "Compression"):
        page.get_by_role("group", name=f"{test}: result").get_by_label("Positive").check()
        page.get_by_role("group", name=f"{test}: reproduced the familiar pain").get_by_label(
            "Yes").check()
        page.get_by_label(f"{test}: side tested").select_option("left")
    for test in ("Sacral thrust", "Gaenslen (left)", "Gaenslen (right)"):
        page.get_by_role("group", name=f"{test}: result").get_by_label("Negative").check()
    page.get_by_role("button", name="Save examination").click()
    expect(page.get_by_role("status")).to_have_text("Examination saved.")
    assert stage(page) == "Conservative care"

    record(page, "Conservative care")
    page.get_by_label("Type").select_option("physical_therapy")
    page.get_by_label("Started on").fill(ago(120))
    page.get_by_label("Ended on").fill(ago(30))
    page.get_by_role("button", name="Save conservative care").click()
    assert stage(page) == "Diagnostic block"

    record(page, "Diagnostic block")
    page.get_by_label("Date of the block").fill(ago(7))
    page.get_by_label("Image guidance").select_option("fluoroscopy")
    for label, pain in (("Baseline, before the block", "8"), ("15 min after", "3"),
                        ("30 min after", "1"), ("1 h after", "1"), ("2 h after", "2"),
                        ("4 h after", "5"), ("6 h after", "7")):
        page.get_by_label(label, exact=True).fill(pain)
    expect(page.locator("output.relief")).to_have_text("87.5% relief")
    page.get_by_role("button", name="Save diagnostic block").click()
    expect(page.get_by_role("status")).to_have_text("Diagnostic block saved.")
    assert stage(page) == "Interventional treatment"
    expect(page.locator("#timeline")).to_contain_text("pain 8 before, 1 at best after")

    why = page.locator("#stage details.sources").first
    why.locator("summary").click()
    expect(why.locator("cite").first).to_be_visible()
    assert re.search(r"\d{4}", why.locator("cite").first.inner_text())  # a full citation

    page.get_by_label("Policy").select_option("clinic")  # submits itself (site.js)
    expect(page).to_have_url(re.compile(r"policy=clinic"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "assessment.png"), full_page=True)
    page.get_by_role("button", name="Sign this assessment").click()
    expect(page.get_by_role("status")).to_have_text("Assessment signed.")
    expect(page.locator("#signatures")).to_contain_text("Interventional treatment")


def test_a_half_valid_form_keeps_the_input_and_moves_focus_to_the_errors(
        served: tuple[str, World], browser: Browser) -> None:
    base, world = served
    page = browser.new_page()
    sign_in(page, base, "clinician")
    page.goto(f"{base}/episodes/{world.ids['episode']}/records/block")
    page.get_by_label("Date of the block").fill(ago(3))
    page.get_by_label("Image guidance").select_option("fluoroscopy")
    page.get_by_label("Baseline, before the block", exact=True).fill("0")
    page.get_by_label("30 min after", exact=True).fill("0")
    page.get_by_role("button", name="Save diagnostic block").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Nothing was saved")
    expect(summary).to_be_focused()
    expect(page.get_by_label("30 min after", exact=True)).to_have_value("0")
    expect(page.get_by_label("Baseline, before the block", exact=True)).to_have_attribute(
        "aria-invalid", "true")


def test_another_clinics_staff_cannot_open_the_patient(served: tuple[str, World],
                                                       browser: Browser) -> None:
    base, world = served
    page = browser.new_page()
    sign_in(page, base, "south_staff")
    answer = page.goto(f"{base}/patients/{world.ids['patient']}")
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert page.goto(f"{base}/episodes/{world.ids['episode']}").status in (403, 404)
    expect(page.locator("main")).not_to_contain_text("Ada")

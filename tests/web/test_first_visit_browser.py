"""A first visit in Chromium, at a desktop (1366 px) and a phone (390 px): a clinician registers
a patient, records the whole first visit in one form (timed, printed), and corrects a
demographic. Screenshots go to `test-artifacts/`."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.web.conftest import World
from tests.web.test_browser import (  # noqa: F401 - fixtures shared with the browser suite
    ARTIFACTS,
    ago,
    browser,
    served,
    sign_in,
)


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def save_with_every_mistake(page: Page) -> Locator:
    """Spoil a filled first visit with the issue's three rounds of mistakes at once (a
    negative duration, shares summing to 70, NRS 11, a course ending before it began), save
    with the browser's own checks off, and return the error summary."""
    page.locator("#f-intake-pain-duration-months").fill("-3")
    page.locator("#f-intake-pain-areas-sij-region").fill("50")
    page.locator("#f-intake-pain-areas-buttock-leg").fill("20")
    page.get_by_label("Pain NRS").fill("11")
    page.get_by_label("Ended on").fill(ago(90))  # before it started (60 days ago)
    page.evaluate("document.querySelector('form.record').noValidate = true")
    page.get_by_role("button", name="Save first visit").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    return summary


def fill_first_visit(page: Page) -> None:
    """What a clinician enters at a new patient's first visit."""
    page.get_by_label("Pain began on").fill(ago(120))
    page.get_by_label("Average pain now (NRS)").fill("7")
    page.get_by_label("Side", exact=True).select_option("left")
    page.get_by_role("group", name="Red flags present").get_by_label(
        "None of these (asked)").check()
    page.get_by_role("group", name="Pregnant").get_by_label("No", exact=True).check()
    page.get_by_role("button", name="All tests negative").click()  # a plain form button
    expect(page.get_by_role("group", name="Faber (Patrick): result").get_by_label(
        "Negative")).to_be_checked()
    for test in ("Distraction (gapping)", "Thigh thrust (posterior shear)", "Compression"):
        page.get_by_role("group", name=f"{test}: result").get_by_label("Positive").check()
        page.get_by_role("group", name=f"{test}: reproduced the familiar pain").get_by_label(
            "Yes", exact=True).check()
    page.get_by_label("Distraction (gapping): side tested").select_option("left")
    for section, answer in zip(range(1, 11), "3232132213", strict=True):
        page.locator(f"#f-prom-odi-{section}").select_option(answer)
    page.get_by_label("Pain NRS").fill("7")
    page.get_by_role("group", name="Takes an anticoagulant").get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Allergies").get_by_label("None of these (asked)").check()
    page.get_by_label("Type").select_option("physical_therapy")
    page.get_by_label("Started on").fill(ago(60))


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_a_first_visit_in_one_form_and_a_corrected_birth_date(
        served: tuple[str, World], browser: Browser, width: int, height: int) -> None:  # noqa: F811
    base, _ = served
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, base, "clinician")
    page.goto(f"{base}/patients/new")
    page.get_by_label("Family name").fill(f"Visit{width}")
    page.get_by_label("Given name").fill("Fiona")
    page.get_by_label("Date of birth", exact=True).fill("1969-07-21")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_have_text("Patient registered.")
    patient_url = page.url
    page.get_by_label("Complaint").fill("Left buttock pain")
    page.get_by_label("Opened on").fill(ago(1))
    page.get_by_role("button", name="Open episode").click()

    page.get_by_role("link", name="Record a first visit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("First visit")
    assert no_sideways_scroll(page)
    started = time.monotonic()
    fill_first_visit(page)
    shot(page, f"first-visit-form-{width}.png")
    page.locator(".exam-table").screenshot(path=str(ARTIFACTS / f"exam-table-{width}.png"))
    page.get_by_role("button", name="Save first visit").click()
    expect(page.get_by_role("status")).to_have_text("First visit saved.")
    seconds = time.monotonic() - started
    print(f"\nfirst visit at {width} px: entered and saved in one form in {seconds:.1f} s "
          "(scripted input; a clinician types the same ~40 answers)")
    timeline = page.locator("#timeline")
    for summary in ("History: pain 7/10",
                    "Examination: provocation tests 3 positive of 8 performed", "ODI: 10 of 10",
                    "Medications: no anticoagulant; allergies: none", "Conservative care"):
        expect(timeline).to_contain_text(summary)
    expect(timeline).to_contain_text("By clinician, entered")
    shot(page, f"first-visit-episode-{width}.png")

    page.goto(patient_url)
    page.get_by_role("link", name="Correct demographics").click()
    page.get_by_label("Date of birth", exact=True).fill("1969-07-12")
    page.get_by_label("Reason for the correction").fill("Day and month typed the wrong way")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status")).to_contain_text("Demographics corrected")
    expect(page.locator("dl")).to_contain_text("1969-07-12")
    page.get_by_text("Corrections (1)").click()
    expect(page.locator(".corrections")).to_contain_text("was 1969-07-21, now 1969-07-12")
    assert no_sideways_scroll(page)
    shot(page, f"corrected-demographics-{width}.png")
    page.close()

"""Nothing typed is lost, in Chromium: a first visit with many mistakes shows every problem at
once (each once, in form order); sent after 30 idle minutes, it is kept, the password is
asked, and it is saved after signing in again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.web.conftest import PASSWORD, World
from tests.web.test_browser import (  # noqa: F401 - fixtures shared with the browser suite
    ago,
    browser,
    served,
    sign_in,
)
from tests.web.test_first_visit_browser import fill_first_visit, save_with_every_mistake, shot


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_every_error_at_once_and_an_ended_session_keeps_the_visit(
        served: tuple[str, World], browser: Browser, width: int, height: int) -> None:  # noqa: F811
    base, world = served
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, base, "clinician")
    page.goto(f"{base}/patients/new")
    page.get_by_label("Family name").fill(f"Kept{width}")
    page.get_by_label("Given name").fill("Karla")
    birth = f"1966-03-{width % 28 + 1:02d}"  # a date of its own: not a duplicate
    page.get_by_label("Date of birth", exact=True).fill(birth)
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Register").click()
    page.get_by_label("Complaint").fill("Right buttock pain")
    page.get_by_label("Opened on").fill(ago(1))
    page.get_by_role("button", name="Open episode").click()
    page.get_by_role("link", name="Record a first visit").click()
    fill_first_visit(page)

    items = save_with_every_mistake(page).locator("li")
    expect(items).to_have_count(4)
    expect(items).to_have_text([
        "Or: duration in months: must be 0 or more",
        "Axial low back (%): the shares must sum to 100, they sum to 70",
        "Pain NRS: must be 10 or less",
        f"Ended on: is before the start ({ago(60)})"])
    shot(page, f"all-errors-at-once-{width}.png")

    # put right, then left for 31 minutes before saving
    page.locator("#f-intake-pain-duration-months").fill("")
    page.locator("#f-intake-pain-areas-sij-region").fill("")
    page.locator("#f-intake-pain-areas-buttock-leg").fill("")
    page.get_by_label("Pain NRS").fill("7")
    page.get_by_label("Ended on").fill(ago(30))
    world.clock.now += 31 * 60
    page.get_by_role("button", name="Save first visit").click()
    expect(page.get_by_role("status")).to_contain_text("What you entered is kept")
    expect(page.get_by_label("Username")).to_have_value("clinician")
    shot(page, f"kept-entries-sign-in-{width}.png")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_have_text("First visit saved.")
    expect(page.locator("#timeline")).to_contain_text("Conservative care")
    page.close()

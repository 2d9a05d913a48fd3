"""The clinic pages of issue 22 (part B) in Chromium at 1366 and 390 px, as a clinician and
an admin use them: the banner on the demo's episode, the header search, recent patients, a
document uploaded and opened, an addendum signed and the visit note on the letterhead, the
admin's edit and its deactivation check. Nothing scrolls sideways; axe-core finds no serious
or critical violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browsing import browser, demo_world, served, sign_in
from tests.web.conftest import World
from tests.web.test_public_browser import WIDTHS, accessible, shot

__all__ = ["browser"]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = demo_world(tmp_path_factory.mktemp("round-two"))
    with served(world) as base:
        yield base, world
    world.engine.dispose()


def page_at(browser: Browser, width: str) -> Page:
    w, h = WIDTHS[width]
    return browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True).new_page()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_clinicians_round_on_the_demo(demo: tuple[str, World], browser: Browser,
                                        width: str, tmp_path) -> None:
    base, world = demo
    page = page_at(browser, width)
    sign_in(page, base, "clinician")
    episode = world.ids["demo_episodes"][4]  # after injection: scores, a chart, a procedure
    page.goto(f"{base}/episodes/{episode}")
    banner = page.locator(".clinical-banner")
    expect(banner).to_contain_text("Patient 05")
    expect(banner).to_contain_text("Anticoagulant: no")
    expect(banner).to_contain_text("Stage:")
    accessible(page, f"{width} episode with banner")
    shot(page, width, "clinic-episode-banner")

    page.get_by_label("Find a patient by name, clinic number or date of birth").fill("demo-05")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("main")).to_contain_text("Patient 05")
    page.goto(f"{base}/recent")
    expect(page.locator("main ol.recent")).to_contain_text("Patient 05")
    accessible(page, f"{width} recent patients")

    patient = world.ids["demo_patients"][4]
    page.goto(f"{base}/patients/{patient}/documents")
    document = tmp_path / "referral.pdf"
    document.write_bytes(PDF)
    page.get_by_label("Title").fill(f"Referral letter ({width})")
    page.get_by_label("File").set_input_files(str(document))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("main")).to_contain_text(f"Referral letter ({width})")
    accessible(page, f"{width} documents")
    with page.expect_response(lambda r: "/documents/" in r.url) as opened:
        page.evaluate("url => fetch(url)", page.get_by_role(
            "link", name=f"Referral letter ({width})").get_attribute("href"))
    assert opened.value.status == 200

    page.goto(f"{base}/episodes/{episode}")
    page.get_by_role("button", name="Sign this assessment").click()
    page.goto(f"{base}/episodes/{episode}#signatures")
    page.get_by_role("link", name="Open as signed").first.click()
    page.get_by_label("Add an addendum").fill("Reviewed the referral letter; no change.")
    page.get_by_role("button", name="Sign the addendum").click()
    expect(page.locator("#addenda")).to_contain_text("Reviewed the referral letter")
    accessible(page, f"{width} signed with addendum")
    shot(page, width, "clinic-signed-addendum")

    page.goto(f"{base}/episodes/{episode}/note")
    expect(page.locator(".letterhead")).to_contain_text("North Clinic")
    expect(page.locator("main")).to_contain_text("Provocation tests:")
    accessible(page, f"{width} visit note")
    page.context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_admin_edits_a_user_and_is_asked_before_deactivating(
        demo: tuple[str, World], browser: Browser, width: str) -> None:
    base, world = demo
    page = page_at(browser, width)
    sign_in(page, base, "admin", world.one_time_code("admin"))
    page.goto(f"{base}/admin/users")
    accessible(page, f"{width} users")
    page.goto(f"{base}/admin/users/{world.ids['researcher']}")
    page.get_by_label("Full name").fill("Dr Rae Search")
    page.get_by_label("Credentials").fill("PhD")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("Dr Rae Search, PhD")
    page.goto(f"{base}/admin/users/{world.ids['researcher']}")
    accessible(page, f"{width} edit user")
    page.goto(f"{base}/admin/users/{world.ids['south_staff']}/deactivate")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deactivate south_staff?")
    accessible(page, f"{width} confirm deactivation")
    page.context.close()

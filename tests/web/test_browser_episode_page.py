"""The episode page and every other page of the demo in Chromium at desktop, tablet and
phone widths: the summary band leads (stage, next step, what to document), a red flag shows
only the urgent referral first, and no page scrolls sideways. A screenshot of every page at
each width is saved in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sijcare.web.clinic.forms import record_forms
from tests.web.browsing import ARTIFACTS, CHROMIUM, browser, demo_world, served, sign_in
from tests.web.conftest import World

if not CHROMIUM.exists():
    pytest.skip("!!! /usr/bin/chromium is MISSING: the browser tests did NOT run "
                "(apt-get install chromium) !!!", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect

WIDTHS = {"desktop": 1366, "tablet": 820, "phone": 390}
CONFIRMED, RED_FLAG = 3, 6  # positions in the demo (load_demo's order of scenarios)
__all__ = ["browser"]  # the shared Chromium fixture


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = demo_world(tmp_path_factory.mktemp("pages"))
    with served(world) as base:
        yield base, world
    world.engine.dispose()


@pytest.fixture(scope="module")
def pages(site: tuple[str, World], browser: Browser) -> dict[str, Page]:
    """One signed-in clinician page per width, reused by every test."""
    base, _ = site
    opened = {}
    for name, width in WIDTHS.items():
        page = browser.new_page(viewport={"width": width, "height": 900})
        sign_in(page, base, "clinician")
        opened[name] = page
    return opened


def episode(world: World, position: int) -> int:
    return world.ids["demo_episodes"][position]


def scrolls_sideways(page: Page) -> bool:
    return page.evaluate(
        "document.scrollingElement.scrollWidth > window.innerWidth")


def every_page(world: World) -> list[tuple[str, str]]:
    """(artifact name, path) of every page and form a clinician opens on the demo."""
    found = [("home", "/"), ("patients", "/patients"), ("register", "/patients/new")]
    found += [(f"patient-{n:02d}", f"/patients/{p}")
              for n, p in enumerate(world.ids["demo_patients"], start=1)]
    found += [(f"episode-{n:02d}", f"/episodes/{e}")
              for n, e in enumerate(world.ids["demo_episodes"], start=1)]
    found += [(f"note-{n:02d}", f"/episodes/{e}/note")
              for n, e in enumerate(world.ids["demo_episodes"], start=1)]
    first = world.ids["demo_episodes"][0]
    found += [(f"form-{kind}", f"/episodes/{first}/records/{kind}") for kind in record_forms()]
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_the_summary_band_leads_with_stage_next_step_and_what_to_document(
        site: tuple[str, World], pages: dict[str, Page], width: str) -> None:
    base, world = site
    page = pages[width]
    page.goto(f"{base}/episodes/{episode(world, CONFIRMED)}?policy=clinic")
    band = page.locator("#summary")
    expect(band.locator("#stage .name")).to_have_text("Interventional treatment")
    expect(band.locator("#next-step")).to_contain_text("Therapeutic SIJ steroid injection")
    expect(band.locator("#document-next")).to_be_visible()
    expect(band.get_by_role("button", name="Sign this assessment")).to_be_visible()
    top = {name: page.locator(selector).bounding_box()["y"] for name, selector in {
        "summary": "#summary", "record": "#record-heading",
        "detail": "#assessment-heading", "timeline": "#timeline"}.items()}
    assert top["summary"] < top["record"] and top["summary"] < top["detail"]
    if width != "desktop":  # one column: the Record actions before the detail and timeline
        assert top["record"] < top["detail"] < top["timeline"]
    assert page.locator("details.option[open]").count() == 3  # the next step's options only


@pytest.mark.parametrize("width", WIDTHS)
def test_a_red_flag_shows_only_the_urgent_referral_first(
        site: tuple[str, World], pages: dict[str, Page], width: str) -> None:
    base, world = site
    page = pages[width]
    page.goto(f"{base}/episodes/{episode(world, RED_FLAG)}")
    expect(page.locator("#stage .name")).to_have_text("Urgent referral")
    expect(page.locator("#urgent")).to_contain_text("Saddle anaesthesia")
    assert page.locator("#document-next").count() == 0
    assert page.locator("#next-step").count() == 0
    folded = page.locator("details.after-urgent")
    expect(folded).not_to_have_attribute("open", "")
    expect(page.locator("#eligibility")).to_be_hidden()
    folded.locator("> summary").click()
    expect(page.locator("#eligibility")).to_be_visible()


def test_no_page_scrolls_sideways_and_each_is_photographed_at_every_width(
        site: tuple[str, World], browser: Browser, pages: dict[str, Page]) -> None:
    base, world = site
    ARTIFACTS.mkdir(exist_ok=True)
    admin = browser.new_page(viewport={"width": WIDTHS["phone"], "height": 900})
    sign_in(admin, base, "admin", world.one_time_code("admin"))
    sideways = []
    for width, page in pages.items():
        admin.set_viewport_size({"width": WIDTHS[width], "height": 900})
        visits = [(page, name, path) for name, path in every_page(world)]
        visits.append((admin, "admin-users", "/admin/users"))
        for tab, name, path in visits:
            answer = tab.goto(f"{base}{path}")
            assert answer.status == 200, path
            if scrolls_sideways(tab):
                sideways.append(f"{path} at {WIDTHS[width]} px")
            tab.screenshot(path=str(ARTIFACTS / f"{name}-{WIDTHS[width]}.jpeg"), full_page=True,
                           type="jpeg", quality=70)
    admin.close()
    assert not sideways, sideways

"""Safety on the episode page in Chromium: what a clinician sees first.

The urgent referral is the first thing on the page and nothing offers a packet above it; for the
pregnant patient the pregnancy is read before any option and every option of the step reads
"Stopped for safety" (ENGINE-RULES v3), none the green "Met" or "Review first"; an
anticoagulant without a plan stops fusion (and ablation where covered) with its reason, and a
plan not yet documented is the first thing to document. Screenshots go to test-artifacts/
(safety-*.png) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.browsing import ARTIFACTS, CHROMIUM, browser, served, sign_in
from tests.web.conftest import World, build_world
from tests.web.safety_cases import make_episodes

if not CHROMIUM.exists():
    pytest.skip("!!! /usr/bin/chromium is MISSING: the browser tests did NOT run "
                "(apt-get install chromium) !!!", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect

__all__ = ["browser"]  # the shared Chromium fixture


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    world: World = build_world(tmp_path_factory.mktemp("safety-browser"))
    episodes = make_episodes(world)
    with served(world) as base:
        yield base, episodes
    world.engine.dispose()


@pytest.fixture(scope="module")
def page(site: tuple[str, dict[str, int]], browser: Browser) -> Page:
    opened = browser.new_page(viewport={"width": 1366, "height": 1100})
    sign_in(opened, site[0], "clinician")
    return opened


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"safety-{name}.png"), full_page=False)


@pytest.mark.parametrize("policy", ("medicare", "clinic"))
def test_a_red_flag_page_opens_on_the_urgent_referral_alone(
        site: tuple[str, dict[str, int]], page: Page, policy: str) -> None:
    base, episodes = site
    page.goto(f"{base}/episodes/{episodes['red_flag']}?policy={policy}")
    urgent = page.locator("#urgent")
    expect(urgent).to_be_visible()
    expect(urgent).to_contain_text("Saddle anaesthesia")
    expect(page.get_by_role("button", name="Prior-authorisation packet (PDF)")).to_be_hidden()
    expect(page.locator("#next-step")).to_have_count(0)
    expect(page.locator("details.option[open]")).to_have_count(0)
    top = page.locator("#urgent").bounding_box()
    assert top and top["y"] < 900, "the urgent referral is below the first screen"
    shot(page, f"red-flag-{policy}")


@pytest.mark.parametrize("policy", ("medicare", "clinic"))
def test_a_pregnant_patient_page_reads_the_pregnancy_before_any_option(
        site: tuple[str, dict[str, int]], page: Page, policy: str) -> None:
    base, episodes = site
    page.goto(f"{base}/episodes/{episodes['pregnant']}?policy={policy}")
    first = page.locator("#read-first")
    expect(first).to_contain_text("Pregnancy")
    expect(page.locator("#safety-facts")).to_contain_text("pregnant")
    expect(page.locator("#next-step .status.met")).to_have_count(0)
    expect(page.locator("details.option > summary .status.met")).to_have_count(0)
    step_options = page.locator("#next-step .open-options > li")
    expect(page.locator("#next-step .status.stopped")).to_have_count(step_options.count())
    expect(page.locator("#next-step .status.caution")).to_have_count(0)
    expect(page.locator("#next-step .stops").first).to_contain_text("Not pregnant")
    read, step = first.bounding_box(), page.locator("#next-step").bounding_box()
    assert read and step and read["y"] < step["y"]
    shot(page, f"pregnant-{policy}")


@pytest.mark.parametrize("policy", ("medicare", "clinic"))
def test_an_anticoagulant_without_a_plan_stops_fusion_with_its_reason(
        site: tuple[str, dict[str, int]], page: Page, policy: str) -> None:
    base, episodes = site
    page.goto(f"{base}/episodes/{episodes['anticoagulated']}?policy={policy}")
    fact = page.locator("#safety-facts div", has_text="Anticoagulation")
    expect(fact.locator("dd")).to_have_text("anticoagulant, no plan")
    fusion = page.locator("#option-mis_sij_fusion")
    expect(fusion.locator("> summary .status")).to_have_text("Stopped for safety")
    fusion.locator("> summary").click()
    expect(fusion.locator(".stops")).to_contain_text("peri-procedural anticoagulation plan")
    expect(fusion.locator(".stops")).to_be_visible()
    if policy == "clinic":  # ablation is covered there, and is a next step
        ablation = page.locator("#next-step li", has_text="radiofrequency ablation")
        expect(ablation.locator(".status")).to_have_text("Stopped for safety")
    shot(page, f"anticoagulated-{policy}")


def test_a_plan_not_yet_documented_is_the_first_thing_to_document(
        site: tuple[str, dict[str, int]], page: Page) -> None:
    base, episodes = site
    page.goto(f"{base}/episodes/{episodes['plan_unknown']}?policy=clinic")
    lines = page.locator("#document-next li")
    expect(lines.first).to_have_text(
        "Document the anticoagulation plan (hold or bridge, agreed with the prescriber).")
    expect(lines).to_have_count(2)
    expect(page.locator("#safety-facts")).to_contain_text("anticoagulant, plan not recorded")
    shot(page, "plan-unknown-clinic")


def test_the_plan_is_asked_once_an_anticoagulant_is_taken(
        site: tuple[str, dict[str, int]], page: Page) -> None:
    """site.js hides the plan (and sets it back to "not recorded") until "Yes" is chosen."""
    base, episodes = site
    page.goto(f"{base}/episodes/{episodes['unrecorded']}/records/medications")
    plan = page.locator("#f-anticoagulant-plan")
    expect(plan).to_be_hidden()
    page.locator("#f-anticoagulant").get_by_label("Yes").check()
    expect(plan).to_be_visible()
    plan.get_by_label("No", exact=True).check()
    page.locator("#f-anticoagulant").get_by_label("No", exact=True).check()
    expect(plan).to_be_hidden()
    expect(plan.get_by_label("Not recorded")).to_be_checked()

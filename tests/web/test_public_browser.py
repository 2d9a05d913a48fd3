"""The patient site in a real browser at phone and desktop widths, as a patient would use
it: read about RFA, take the self-check both ways (a warning sign; typical SI-joint
answers), ask for an appointment and get the confirmation at a local SMTP server; then staff
find the request in the inbox and turn it into a patient. axe-core runs on every public
page and fails the test on any serious or critical violation; screenshots go to
test-artifacts/."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from sijcare.screen_questions import PAIN_QUESTIONS, RED_FLAG_QUESTIONS
from tests.smtp_server import Mailbox, smtp_server
from tests.web.conftest import World
from tests.web.test_browser import ARTIFACTS, browser, served, sign_in

__all__ = ["browser", "served"]  # fixtures shared with the clinic's browser tests
AXE = Path(__file__).resolve().parents[2] / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}


@pytest.fixture(scope="module")
def mailbox(served: tuple[str, World], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Mailbox]:
    _, world = served
    with smtp_server(tmp_path_factory.mktemp("smtp")) as (box, smtp):
        settings = world.app.state.settings
        world.app.state.settings = dataclasses.replace(settings, smtp=smtp)
        yield box
        world.app.state.settings = settings


def accessible(page: Page, name: str) -> None:
    """axe-core on the page as shown; no serious or critical violation, nothing sideways."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
        f"{name}: the page scrolls sideways")
    if not AXE.exists():
        return  # said loudly by test_axe_core_is_installed
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))""")
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: " + json.dumps(bad, indent=1)


def shot(page: Page, width: str, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"public-{width}-{name}.png"), full_page=True)


def answer(page: Page, question: str, choice: str) -> None:
    page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()


def new_page(browser: Browser, width: str) -> Page:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True)
    return context.new_page()


def test_axe_core_is_installed() -> None:
    if not AXE.exists():
        pytest.skip(f"!!! axe-core MISSING ({AXE}): accessibility was NOT checked; "
                    "scripts/test installs it with npm !!!")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_public_page_passes_axe(served: tuple[str, World], browser: Browser,
                                      width: str) -> None:
    from sijcare.knowledge.content import load_pages

    base, _ = served
    page = new_page(browser, width)
    for path in ["/learn", "/learn/sources", "/appointment", "/newsletter", "/screen",
                 *(f"/learn/{slug}" for slug in load_pages())]:
        assert page.goto(f"{base}{path}").status == 200, path
        accessible(page, f"{width} {path}")
    page.goto(f"{base}/learn/rfa")
    shot(page, width, "learn-rfa")
    page.context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_warning_sign_shows_only_urgent_care(served: tuple[str, World], browser: Browser,
                                               width: str) -> None:
    base, _ = served
    page = new_page(browser, width)
    page.goto(f"{base}/screen")
    accessible(page, f"{width} warning signs")
    for group in page.get_by_role("group").all():
        group.get_by_label("No", exact=True).check()
    answer(page, "Is one of your legs getting weaker?", "Not sure")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Get medical help now")
    expect(page.locator("main")).not_to_contain_text("score")
    assert page.locator("main form").count() == 0
    accessible(page, f"{width} urgent")
    shot(page, width, "screen-urgent")
    page.context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_not_sure_warning_sign_puts_the_call_before_booking(served: tuple[str, World],
                                                              browser: Browser,
                                                              width: str) -> None:
    base, _ = served
    page = new_page(browser, width)
    page.goto(f"{base}/screen")
    for group in page.get_by_role("group").all():
        group.get_by_label("No", exact=True).check()
    answer(page, RED_FLAG_QUESTIONS["fall_with_thin_bones"], "Not sure")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your pain")
    for question in PAIN_QUESTIONS.values():
        answer(page, question, "Yes")
    page.get_by_label("Number of months").fill("4")
    page.get_by_role("button", name="See my result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Call your doctor or a nurse line today, before booking")
    expect(page.locator(".urgent-box")).to_contain_text("thin bones")
    expect(page.get_by_role("button", name="Ask for an appointment")).to_be_visible()
    accessible(page, f"{width} call first")
    shot(page, width, "screen-call-first")
    page.context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_patient_checks_asks_and_staff_register_them(served: tuple[str, World],
                                                       browser: Browser, mailbox: Mailbox,
                                                       width: str) -> None:
    base, world = served
    family = f"Browser{width.capitalize()}"
    # one person per width: a close name with the same birth date would (rightly) be offered
    # to staff as a possible duplicate of the other width's patient
    born = {"desktop": "1975-06-07", "phone": "1981-02-03"}[width]
    page = new_page(browser, width)
    page.goto(f"{base}/learn")
    page.get_by_role("link", name="Radiofrequency ablation (RFA)").click()
    expect(page.get_by_role("heading", name="How strong is the evidence?")).to_be_visible()
    page.get_by_role("link", name="Self-check").click()

    for group in page.get_by_role("group").all():
        group.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your pain")
    expect(page.get_by_role("img", name="Where to point for the one-finger question")
           ).to_be_visible()
    page.get_by_label("2: Beside the dimples").fill("60")
    page.get_by_label("3: Buttock and back of the leg").fill("30")
    page.get_by_label("1: Middle of the low back").fill("10")
    answer(page, "Point with one finger to where it hurts most. Is it the spot just beside "
                 "the dimple at the top of your buttock?", "Yes")
    answer(page, "Do you have pain in your groin?", "Yes")
    answer(page, "Is the pain worse when you sit on a chair?", "Yes")
    answer(page, "Does the pain go below your knee?", "No")
    answer(page, "Do you have numbness or tingling in your foot?", "No")
    page.get_by_label("Number of months").fill("8")
    page.get_by_label("Physical therapy").check()
    accessible(page, f"{width} pain step")
    shot(page, width, "screen-pain")
    page.get_by_role("button", name="See my result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your self-check result")
    expect(page.locator("main")).to_contain_text("This is not a diagnosis.")
    accessible(page, f"{width} result")
    shot(page, width, "screen-result")

    page.get_by_role("button", name="Ask for an appointment").click()
    page.get_by_label("First name").fill("Pat")
    page.get_by_label("Last name").fill(family)
    page.get_by_label("Date of birth").fill(born)
    page.get_by_label("Email").fill(f"{family.lower()}@example.org")
    page.get_by_label("Good times to reach you").fill("Afternoons")
    page.get_by_label("I agree that the clinic keeps this request").check()
    accessible(page, f"{width} appointment")
    world.clock.now += 10  # a person takes a while to fill in the form
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("your request was sent")
    accessible(page, f"{width} sent")
    shot(page, width, "appointment-sent")
    mine = [m for m in mailbox.messages if m["To"] == f"{family.lower()}@example.org"]
    assert len(mine) == 1 and mine[0].get_body(("plain",)).get_content().startswith("Hello,")
    page.context.close()

    staff = new_page(browser, width)
    sign_in(staff, base, "staff")
    staff.get_by_role("link", name="Requests").click()
    staff.get_by_role("link", name=f"{family}, Pat").click()
    expect(staff.locator("main")).to_contain_text("Fits SI-joint pain")
    shot(staff, width, "inbox-request")
    staff.get_by_label("Sex").select_option("female")
    staff.get_by_role("button", name="Register patient and open episode").click()
    expect(staff.get_by_role("status")).to_contain_text("Patient registered from the request")
    expect(staff.get_by_role("heading", level=1)).to_contain_text(family)
    staff.context.close()

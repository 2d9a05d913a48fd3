"""Acceptance, in Debian's Chromium: a clinician records a steroid injection, the worklist
shows its 2-week point, the link goes out by email to a real SMTP server, the patient answers
on a phone-sized window, the episode shows the answers, the chart and the point done, and a
second use of the link is refused."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from sijcare.notify import send_due
from tests.smtp_server import smtp_server
from tests.web.browsing import browser, free_port
from tests.web.browsing import served as serving
from tests.web.conftest import TODAY, World, build_world
from tests.web.test_browser import record, sign_in
from tests.web.test_public_browser import accessible

PHONE = {"width": 390, "height": 844}
__all__ = ["browser"]  # the shared Chromium fixture


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, object]]:
    """The app under uvicorn on a free loopback port, mailing through a local SMTP server."""
    directory = tmp_path_factory.mktemp("questionnaire-browser")
    world = build_world(directory)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with smtp_server(directory) as (mailbox, smtp):
        world.app.state.settings = dataclasses.replace(
            world.app.state.settings, public_url=base, smtp=smtp, clinic_name="Hillside Clinic")
        with serving(world, port):
            yield base, world, mailbox
    world.engine.dispose()


def test_injection_to_answered_follow_up(served: tuple[str, World, object],
                                         browser: Browser) -> None:
    base, world, mailbox = served
    clinic = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(clinic, base, "clinician")
    episode = f"{base}/episodes/{world.ids['episode']}"
    clinic.goto(episode)
    record(clinic, "Procedure")
    clinic.get_by_label("Date", exact=True).fill((TODAY - timedelta(days=12)).isoformat())
    clinic.get_by_label("Procedure", exact=True).select_option("steroid_injection")
    clinic.get_by_label("Side").select_option("left")
    clinic.get_by_label("Image guidance").select_option("fluoroscopy")
    clinic.get_by_role("button", name="Save procedure").click()
    expect(clinic.get_by_role("status")).to_have_text("Procedure saved.")

    clinic.get_by_role("link", name="Follow-up", exact=True).click()
    row = clinic.locator('tr[data-point="2w"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("North, Ada")
    expect(row).to_contain_text("Due now")
    row.get_by_label(re.compile("Patient's email")).fill("ada@example.org")
    row.get_by_role("button", name=re.compile("Send link")).click()
    expect(clinic.get_by_role("status")).to_contain_text(
        "2-week questionnaire link queued: it goes out within a minute, not delivered yet")

    delivery = send_due(world.sessions, world.app.state.settings.smtp)  # what cron runs
    assert delivery.sent and not delivery.failed
    [message] = mailbox.messages
    assert message["To"] == "ada@example.org"
    link = re.search(rf"{re.escape(base)}/q/\S+", message.get_content()).group(0)

    phone = browser.new_context(viewport=PHONE, is_mobile=True, bypass_csp=True).new_page()
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello Ada")
    assert "North" not in phone.content()  # the first name only
    expect(phone.locator("header .brand")).to_have_text("Hillside Clinic")  # the patient site
    accessible(phone, "questionnaire")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at {PHONE['width']} px"
    phone.get_by_role("group", name=re.compile("How bad is your pain")).get_by_label(
        "3", exact=True).check()
    phone.get_by_label("Much improved", exact=True).check()
    phone.get_by_label(re.compile("Anything else")).fill("Walking is easier.")
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    accessible(phone, "questionnaire answered")

    clinic.goto(episode)
    expect(clinic.locator("#timeline")).to_contain_text("NRS: 3 (patient-reported")
    expect(clinic.locator("#timeline")).to_contain_text("PGIC: 2 (patient-reported")
    expect(clinic.locator('#follow-up tr[data-point="2w"]')).to_contain_text("Done")
    chart = clinic.locator("#follow-up figure img")
    expect(chart).to_be_visible()
    assert "Pain NRS" in (chart.get_attribute("alt") or "")
    assert clinic.evaluate(
        "document.querySelector('#follow-up figure img').naturalWidth") > 0

    again = phone.goto(link)
    assert again is not None and again.status == 410
    expect(phone.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(phone.locator("main")).to_contain_text("already been answered")
    accessible(phone, "questionnaire refused")

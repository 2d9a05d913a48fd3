"""Printing: the visit note a clinician hands to a referrer fits one A4 page (rendered to PDF
by Chromium), names the stage, why, alerts, the next step's checklist and the signer; the
print stylesheet leaves out the menus and buttons. PNGs of the printed notes are saved in
test-artifacts/ to be looked at."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sijcare.knowledge import load_knowledge
from sijcare.store import AuditEvent
from tests.web.browsing import ARTIFACTS, CHROMIUM, chromium, demo_world, served, sign_in
from tests.web.conftest import World


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = demo_world(tmp_path_factory.mktemp("print"))
    yield world
    world.engine.dispose()


def sign(client: TestClient, episode: int, policy: str) -> None:
    page = client.get(f"/episodes/{episode}", params={"policy": policy}).text
    seen = re.search(r'name="seen" value="([0-9a-f]{64})"', page).group(1)
    answer = client.post(f"/episodes/{episode}/sign", follow_redirects=False, data={
        "policy": policy, "as_of": re.search(r'name="as_of" value="([\d-]+)"', page).group(1),
        "seen": seen})
    assert answer.status_code == 303


def test_the_visit_note_names_stage_why_alerts_next_step_and_signer(demo: World) -> None:
    client = demo.signed_in("clinician")
    confirmed = demo.ids["demo_episodes"][3]  # block confirmed: the next step is a procedure
    unsigned = client.get(f"/episodes/{confirmed}/note", params={"policy": "clinic"}).text
    assert "Not signed in sijcare" in unsigned
    sign(client, confirmed, "clinic")
    with demo.sessions() as db:
        reads = db.scalar(select(func.count()).select_from(AuditEvent))
    note = client.get(f"/episodes/{confirmed}/note", params={"policy": "clinic"}).text
    with demo.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent)) == reads + 1
    assert "Stage: Interventional treatment" in note
    assert "Block confirmed" in note
    assert "Therapeutic SIJ steroid injection" in note and "Diagnostic block confirmed" in note
    assert "Signed by clinician" in note
    assert "Minimally invasive SIJ fusion" not in note  # not the next step


def test_a_red_flag_note_leads_with_the_urgent_referral_alone(demo: World) -> None:
    client = demo.signed_in("clinician")
    red_flag = demo.ids["demo_episodes"][6]
    note = client.get(f"/episodes/{red_flag}/note").text
    assert "Stage: Urgent referral" in note and "Saddle anaesthesia" in note
    assert "Next step" not in note and "Still to document" not in note


def test_staff_may_not_print_a_clinical_note(demo: World) -> None:
    answer = demo.signed_in("staff").get(f"/episodes/{demo.ids['demo_episodes'][0]}/note")
    assert answer.status_code == 403


def pages_in(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.skipif(not CHROMIUM.exists(), reason="!!! /usr/bin/chromium is MISSING !!!")
def test_every_demo_visit_note_prints_on_one_page_without_menus_or_buttons(
        demo: World) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with served(demo) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
        sign_in(page, base, "clinician")
        page.emulate_media(media="print")  # page.pdf prints with it anyway
        for number, episode in enumerate(demo.ids["demo_episodes"], start=1):
            for policy in load_knowledge().policies:
                page.goto(f"{base}/episodes/{episode}/note?policy={policy}")
                pdf = page.pdf(format="A4", print_background=True)
                assert pdf.startswith(b"%PDF")
                assert pages_in(pdf) == 1, f"episode {episode} ({policy}): {pages_in(pdf)} pages"
                for hidden in ("header.bar", "[data-print]", "form.signout"):
                    assert not page.locator(hidden).is_visible(), hidden
                page.screenshot(path=str(ARTIFACTS / f"visit-note-{number:02d}-{policy}.png"),
                                full_page=True)
        page.goto(f"{base}/episodes/{demo.ids['demo_episodes'][4]}")
        episode_pdf = page.pdf(format="A4")
        assert pages_in(episode_pdf) <= 4  # the whole page prints without menus: was 6

"""What the browser test modules share: the app served on a free loopback port, Debian's
Chromium, a world with the demo patients, and where screenshots go."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from sqlalchemy import select

from sijcare.store import Clinic, Episode, Membership, Patient, load_demo
from tests.web.conftest import PASSWORD, World, build_world

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def demo_world(directory: Path) -> World:
    """The test world plus the demo; north's clinician and staff also work at the demo clinic."""
    world = build_world(directory)
    with world.sessions() as db:
        load_demo(db)
        clinic = db.scalar(select(Clinic).where(Clinic.demo.is_(True)))
        for role in ("clinician", "staff"):
            db.add(Membership(user_id=world.ids[role], clinic_id=clinic.id))
        demo = select(Patient.id).where(Patient.clinic_id == clinic.id)
        world.ids["demo_patients"] = list(db.scalars(demo))  # type: ignore[assignment]
        world.ids["demo_episodes"] = list(db.scalars(  # type: ignore[assignment]
            select(Episode.id).where(Episode.patient_id.in_(demo)).order_by(Episode.id)))
        db.commit()
    return world


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(world: World, port: int | None = None) -> Iterator[str]:
    """The app under uvicorn in a background thread; yields its base URL. Pass port when
    the app must know its own URL before it starts."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, launched the one way every browser test needs it."""
    from playwright.sync_api import sync_playwright  # here, so test_print.py loads without it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for a test module; import it there to use it."""
    with chromium() as launched:
        yield launched


def sign_in(page, base: str, username: str, code: str | None = None) -> None:
    """The sign-in form, and the code form after it for a user with a second factor."""
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if code is not None:
        page.wait_for_url("**/login/code**")
        page.get_by_label("One-time code").fill(code)
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

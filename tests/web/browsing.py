"""What the browser test modules share: the app served on a free loopback port, Debian's
Chromium, a world with the demo patients, and where screenshots go."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from sqlalchemy import select

from sijcare.store import Clinic, Episode, Membership, Patient, load_demo
from tests.web.conftest import PASSWORD, World, build_world

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


@contextmanager
def served(world: World) -> Iterator[str]:
    """The app under uvicorn in a background thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
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


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

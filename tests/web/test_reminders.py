"""Reminders: links by email through the outbox to a real SMTP server (aiosmtpd), at most one
per point per N days, opt-out honoured, and `sijcare reminders send` for cron."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from sijcare.cli import app as cli
from sijcare.notify import deliver_due
from sijcare.notify.reminders import Mailing, queue_reminders, save_contact
from sijcare.store import Episode
from sijcare.store.models import FollowUpReminder, PromRecord
from tests.smtp_server import smtp_server
from tests.web.conftest import TODAY, World, build_world
from tests.web.test_worklist import injection, points

URL = re.compile(r"http://127\.0\.0\.1:8000(/q/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
STOP = re.compile(r"http://127\.0\.0\.1:8000(/q/stop/[A-Za-z0-9_\-.]+)")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    built = build_world(tmp_path_factory.mktemp("reminders"))
    yield built
    built.engine.dispose()


def mailing(world: World) -> Mailing:
    settings = world.app.state.settings
    return Mailing(settings.secret_key, settings.public_url, "North Clinic", 14)


def with_email(world: World, days_ago: int, email: str) -> tuple[int, int]:
    episode_id, procedure_id = injection(world, days_ago)
    with world.sessions() as db:
        episode = db.get(Episode, episode_id)
        assert episode is not None
        save_contact(db, episode.patient_id, email)
        db.commit()
    return episode_id, procedure_id


def test_send_link_from_the_worklist_reaches_the_patient(world: World, clinician: TestClient,
                                                         tmp_path: Path) -> None:
    episode_id, _ = injection(world, days_ago=12)
    point = points(world, episode_id)["2w"]
    sent = clinician.post(f"/episodes/{episode_id}/follow-up/{point.id}/send",
                          data={"email": "bea@example.org"}, follow_redirects=False)
    assert sent.status_code == 303
    with smtp_server(tmp_path) as (mailbox, smtp), world.sessions() as db:
        delivery = deliver_due(db, smtp)
        db.commit()
    assert delivery.sent and not delivery.failed
    [message] = [m for m in mailbox.messages if m["To"] == "bea@example.org"]
    body = message.get_content()
    assert "Hello Bea" in body and "Followup" not in body and "steroid" not in body
    path = URL.search(body).group(1)
    assert "Hello Bea" in world.client().get(path).text
    assert STOP.search(body)


def test_send_without_an_address_says_so(world: World, clinician: TestClient) -> None:
    episode_id, _ = injection(world, days_ago=12)
    point = points(world, episode_id)["2w"]
    answer = clinician.post(f"/episodes/{episode_id}/follow-up/{point.id}/send", data={})
    assert answer.status_code == 422 and "no email address is on file" in answer.text


def test_one_reminder_per_point_per_n_days_and_opt_out(world: World, tmp_path: Path) -> None:
    episode_id, _ = with_email(world, days_ago=12, email="cy@example.org")
    other_id, _ = with_email(world, days_ago=12, email="di@example.org")
    with world.sessions() as db:
        first = queue_reminders(db, mailing(world), TODAY, every_days=7)
        again = queue_reminders(db, mailing(world), TODAY, every_days=7)
        db.commit()
    assert {link.episode_id for link in first} >= {episode_id, other_id}
    assert again == []
    with smtp_server(tmp_path) as (mailbox, smtp), world.sessions() as db:
        deliver_due(db, smtp)
        db.commit()
    by_address = {m["To"]: m.get_content() for m in mailbox.messages}
    stop = STOP.search(by_address["di@example.org"]).group(1)
    patient = world.client()
    page = patient.get(stop)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert patient.post(stop, data={"csrf_token": token}).status_code == 200
    with world.sessions() as db:  # eight days later
        db.execute(update(FollowUpReminder).values(
            queued_at=FollowUpReminder.queued_at - dt.timedelta(days=8)))
        later = queue_reminders(db, mailing(world), TODAY, every_days=7)
        db.commit()
    episodes = {link.episode_id for link in later}
    assert episode_id in episodes and other_id not in episodes  # opted out


def test_cli_reminders_send_queues_and_delivers(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    built = build_world(tmp_path)
    try:
        episode_id, _ = with_email(built, days_ago=12, email="ed@example.org")
        with smtp_server(tmp_path) as (mailbox, smtp):
            monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path / "data"))
            monkeypatch.setenv("SIJCARE_SMTP_HOST", smtp.host)
            monkeypatch.setenv("SIJCARE_SMTP_PORT", str(smtp.port))
            result = CliRunner().invoke(cli, ["reminders", "send", "--url",
                                              str(built.engine.url)])
            assert result.exit_code == 0, result.output
            assert "reminder(s) queued" in result.output and "1 sent" in result.output
            assert [m["To"] for m in mailbox.messages] == ["ed@example.org"]
            monkeypatch.setenv("SIJCARE_REMINDER_DAYS", "none")
            bad = CliRunner().invoke(cli, ["reminders", "send", "--url",
                                           str(built.engine.url)])
            assert bad.exit_code == 2 and "SIJCARE_REMINDER_DAYS" in bad.output
        with built.sessions() as db:
            assert db.scalars(select(PromRecord).where(
                PromRecord.episode_id == episode_id)).all() == []
    finally:
        built.engine.dispose()

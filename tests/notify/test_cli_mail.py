"""`sijcare newsletter send` queues an issue for confirmed subscribers only, and `sijcare
outbox send` delivers it through the SMTP server named in the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sijcare.cli import app
from sijcare.store import make_engine, session_factory, upgrade
from sijcare.store.models import NewsletterSubscription, utcnow
from tests.smtp_server import smtp_server


def test_newsletter_issue_goes_to_confirmed_subscribers_with_an_unsubscribe_link(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        db.add_all([NewsletterSubscription(email="yes@example.org", nonce="a" * 32,
                                           confirmed_at=utcnow()),
                    NewsletterSubscription(email="pending@example.org", nonce="b" * 32),
                    NewsletterSubscription(email="left@example.org", nonce="c" * 32,
                                           confirmed_at=utcnow(), unsubscribed_at=utcnow())])
        db.commit()
    engine.dispose()
    issue = tmp_path / "issue.txt"
    issue.write_text("New pages about RFA.\n", encoding="utf-8")
    runner = CliRunner()
    with smtp_server(tmp_path) as (mailbox, smtp):
        monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("SIJCARE_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("SIJCARE_PUBLIC_URL", "https://clinic.example")
        queued = runner.invoke(app, ["newsletter", "send", str(issue), "--subject", "Winter",
                                     "--url", url])
        assert queued.exit_code == 0 and "queued for 1 confirmed" in queued.stdout
        sent = runner.invoke(app, ["outbox", "send", "--url", url])
        assert sent.exit_code == 0 and "sent 1," in sent.stdout
    body = mailbox.only().get_body(("plain",)).get_content()
    assert mailbox.only()["To"] == "yes@example.org"
    assert "New pages about RFA." in body
    assert "https://clinic.example/newsletter/unsubscribe/" in body
    bad = runner.invoke(app, ["newsletter", "send", str(tmp_path / "none.txt"), "--subject",
                              "x", "--url", url])
    assert bad.exit_code == 2 and bad.stderr.startswith("error:")

"""The outbox against a real SMTP server: delivery, retries with back-off, giving up, TLS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sijcare.notify import BACKOFF, SmtpSettings, deliver_due, enqueue, send_due
from sijcare.store import session_factory
from sijcare.store.models import OutboxEmail, utcnow
from sijcare.tokens import LinkError, check_link, sign_link
from tests.smtp_server import free_port, smtp_server
from tests.store.helpers import fresh_database, migrated

NOW = utcnow() + dt.timedelta(hours=1)  # after every message the tests queue


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_database(request.param, tmp_path_factory.mktemp("outbox")) as url:
        engine = migrated(url)
        yield engine
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        for email in session.scalars(select(OutboxEmail)):
            session.delete(email)
        session.commit()
        yield session


def test_a_queued_message_is_delivered_once_with_text_and_html(session: Session,
                                                                tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, smtp):
        email = enqueue(session, "ada@example.org", "Your request", "Plain words",
                        html="<p>Plain words</p>", kind="appointment_confirmation")
        session.commit()
        first = deliver_due(session, smtp, NOW)
        again = deliver_due(session, smtp, NOW)
        session.commit()
    assert (first.sent, again.sent) == ([email.id], [])
    got = mailbox.only()
    assert (got["To"], got["Subject"]) == ("ada@example.org", "Your request")
    assert got["From"] == "North Clinic <desk@north.example>"
    assert got.get_body(("plain",)).get_content().strip() == "Plain words"
    assert "<p>Plain words</p>" in got.get_body(("html",)).get_content()
    assert (email.sent_at, email.attempts) == (NOW, 1)


def test_mail_waits_until_it_is_due(session: Session, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, smtp):
        enqueue(session, "ada@example.org", "Later", "x", not_before=NOW + dt.timedelta(days=1))
        assert deliver_due(session, smtp, NOW).sent == []
        assert len(deliver_due(session, smtp, NOW + dt.timedelta(days=1)).sent) == 1
    assert len(mailbox.messages) == 1


def test_an_absent_server_means_retries_with_growing_waits_then_failure(
        session: Session) -> None:
    nowhere = SmtpSettings(port=free_port(), timeout_seconds=2)
    email = enqueue(session, "ada@example.org", "Hello", "x")
    at, waits = NOW, []
    for _ in BACKOFF:
        assert deliver_due(session, nowhere, at).retrying == [email.id]
        waits.append(email.next_attempt_at - at)
        assert deliver_due(session, nowhere, email.next_attempt_at - dt.timedelta(seconds=1)
                           ).retrying == []  # not due yet
        at = email.next_attempt_at
    assert waits == list(BACKOFF) and waits == sorted(waits)
    assert deliver_due(session, nowhere, at).failed == [email.id]
    assert email.failed_at == at and "Connection" in (email.last_error or "")
    assert deliver_due(session, nowhere, at + dt.timedelta(days=9)).failed == []


def test_a_retry_after_the_server_comes_back_delivers(session: Session,
                                                      tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, smtp):
        mailbox.refuse = (451, "try again later")
        email = enqueue(session, "ada@example.org", "Hello", "x")
        assert deliver_due(session, smtp, NOW).retrying == [email.id]
        assert "451" in (email.last_error or "")
        mailbox.refuse = None
        assert deliver_due(session, smtp, email.next_attempt_at).sent == [email.id]
    assert email.attempts == 2 and email.last_error is None and len(mailbox.messages) == 1


def test_a_permanent_refusal_is_not_retried(session: Session, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, smtp):
        mailbox.refuse = (554, "no such mailbox")
        email = enqueue(session, "ada@example.org", "Hello", "x")
        assert deliver_due(session, smtp, NOW).failed == [email.id]
    assert email.attempts == 1 and email.failed_at == NOW


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_modes_verify_the_server_and_log_in(session: Session, tmp_path: Path,
                                                security: str) -> None:
    with smtp_server(tmp_path, security=security, login=True) as (mailbox, smtp):
        enqueue(session, "ada@example.org", "Secure", "x")
        assert len(deliver_due(session, smtp, NOW).sent) == 1
        wrong = enqueue(session, "ada@example.org", "Bad login", "x")
        bad = SmtpSettings(**{**smtp.__dict__, "password": "wrong", "timeout_seconds": 1})
        assert deliver_due(session, bad, NOW).retrying == [wrong.id]  # fixable: retried
        untrusted = enqueue(session, "ada@example.org", "Untrusted", "x")
        unverified = SmtpSettings(**{**smtp.__dict__, "ca_file": None})
        assert deliver_due(session, unverified, NOW).retrying == [untrusted.id]
        assert "CERTIFICATE_VERIFY_FAILED" in (untrusted.last_error or "")
    assert [m["Subject"] for m in mailbox.messages] == ["Secure"]


def test_send_due_commits_on_its_own(engine: Engine, tmp_path: Path) -> None:
    sessions = session_factory(engine)
    with sessions() as session:
        email_id = enqueue(session, "ada@example.org", "Own transaction", "x").id
        session.commit()
    with smtp_server(tmp_path) as (_, smtp):
        assert email_id in send_due(sessions, smtp, NOW).sent
    with sessions() as session:
        assert session.get(OutboxEmail, email_id).sent_at == NOW


@pytest.mark.parametrize("address", ["", "a@b\r\nBcc: x@y", "two@a.org, b@c.org", "nobody",
                                     "x" * 250 + "@a.org"])
def test_enqueue_refuses_anything_but_one_address(session: Session, address: str) -> None:
    with pytest.raises(ValueError, match="one email address"):
        enqueue(session, address, "Hello", "x")


@given(st.text(min_size=1, max_size=40).filter(lambda s: "." not in s), st.text(max_size=5))
def test_signed_links_check_only_unaltered(subject: str, tail: str) -> None:
    secret = b"k" * 32
    token = sign_link(secret, "unsubscribe", subject)
    assert check_link(secret, "unsubscribe", token) == subject
    for forged in (token + tail if tail else token[:-1], sign_link(secret, "confirm", subject),
                   sign_link(b"x" * 32, "unsubscribe", subject)):
        with pytest.raises(LinkError):
            check_link(secret, "unsubscribe", forged)

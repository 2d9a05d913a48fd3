"""Newsletter: double opt-in by email (read back from a real SMTP server), nothing sent
unconfirmed, an unsubscribe link in every message that works at once."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.notify import deliver_due
from sijcare.notify.newsletter import queue_issue
from sijcare.store.models import NewsletterSubscription
from tests.smtp_server import Mailbox, smtp_server
from tests.web.conftest import World
from tests.web.public_helpers import hidden, post_form, visitor


@pytest.fixture(scope="module")
def mailbox(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as (box, smtp):
        settings = world.app.state.settings
        world.app.state.settings = dataclasses.replace(settings, smtp=smtp,
                                                       public_url="http://site.test")
        yield box
        world.app.state.settings = settings


def sign_up(world: World, client: TestClient, email: str, wait: float = 5):
    form = client.get("/newsletter").text
    world.clock.now += wait
    return post_form(client, form, "/newsletter", {"email": email,
                                                   "started": hidden(form, "started")})


def link_in(text: str, action: str) -> str:
    found = re.search(rf"http://site\.test(/newsletter/{action}/\S+)", text)
    assert found, text
    return found.group(1)


def press(client: TestClient, path: str):
    page = client.get(path).text
    return post_form(client, page, f"/newsletter/{path.split('/')[2]}",
                     {"token": hidden(page, "token")})


def issue(world: World, mailbox: Mailbox, subject: str) -> list:
    mailbox.messages.clear()
    settings = world.app.state.settings
    with world.sessions() as db:
        queue_issue(db, settings.secret_key, settings.public_url, subject, "Winter news.")
        deliver_due(db, settings.smtp)
        db.commit()
    return [m for m in mailbox.messages if m["Subject"] == subject]


def test_double_opt_in_then_unsubscribe(world: World, mailbox: Mailbox) -> None:
    client = visitor(world)
    mailbox.messages.clear()
    answer = sign_up(world, client, "reader@example.org")
    assert answer.headers["location"] == "/newsletter/check-your-email"
    confirmation = mailbox.only().get_body(("plain",)).get_content()
    assert issue(world, mailbox, "Issue 1") == []  # nothing before confirmation
    assert "Confirm" in client.get(link_in(confirmation, "confirm")).text  # GET changes nothing
    assert issue(world, mailbox, "Issue 1b") == []
    assert "You are signed up" in press(client, link_in(confirmation, "confirm")).text
    (got,) = issue(world, mailbox, "Issue 2")
    body = got.get_body(("plain",)).get_content()
    assert got["To"] == "reader@example.org" and "Winter news." in body
    assert "You are unsubscribed" in press(client, link_in(body, "unsubscribe")).text
    assert issue(world, mailbox, "Issue 3") == []


def test_signing_up_again_after_unsubscribing_needs_a_new_confirmation(
        world: World, mailbox: Mailbox) -> None:
    client = visitor(world)
    mailbox.messages.clear()
    sign_up(world, client, "again@example.org")
    first = mailbox.only().get_body(("plain",)).get_content()
    press(client, link_in(first, "confirm"))
    press(client, link_in(first, "unsubscribe"))
    mailbox.messages.clear()
    sign_up(world, client, "Again@Example.org")
    second = mailbox.only().get_body(("plain",)).get_content()
    assert press(client, link_in(first, "confirm")).status_code == 400  # old link is dead
    assert all(m["To"] != "again@example.org" for m in issue(world, mailbox, "Issue 4"))
    assert press(client, link_in(second, "confirm")).status_code == 200


def test_edited_or_foreign_links_do_nothing(world: World, mailbox: Mailbox) -> None:
    client = visitor(world)
    mailbox.messages.clear()
    sign_up(world, client, "careful@example.org")
    link = link_in(mailbox.only().get_body(("plain",)).get_content(), "confirm")
    for forged in (link[:-2] + "xx", link.replace("confirm", "unsubscribe"),
                   "/newsletter/confirm/1:abc.def"):
        assert press(client, forged).status_code in (400, 404)
    with world.sessions() as db:
        row = db.scalars(select(NewsletterSubscription).where(
            NewsletterSubscription.email == "careful@example.org")).one()
        assert row.confirmed_at is None and row.unsubscribed_at is None


def test_a_bad_address_a_robot_and_a_known_address_all_look_alike(world: World,
                                                                  mailbox: Mailbox) -> None:
    client = visitor(world)
    assert sign_up(world, client, "not an address").status_code == 422
    assert sign_up(world, client, "x@example.org\r\nBcc: y@example.org").status_code == 422
    mailbox.messages.clear()
    form = client.get("/newsletter").text
    world.clock.now += 5
    robot = post_form(client, form, "/newsletter", {"email": "bot@example.org", "website": "x",
                                                    "started": hidden(form, "started")})
    assert robot.headers["location"] == "/newsletter/check-your-email"
    assert mailbox.messages == []
    assert sign_up(world, visitor(world), "careful@example.org").headers["location"] == \
        "/newsletter/check-your-email"

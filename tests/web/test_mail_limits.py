"""The clinic's mail cannot be aimed: confirmations are limited per recipient and per sender's
address (counted in the database), and carry nothing the visitor typed. Mail is read back
from a real SMTP server."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from sijcare.store.mail_limits import PER_RECIPIENT, PER_SENDER
from sijcare.store.models import AppointmentRequest
from tests.smtp_server import Mailbox, smtp_server
from tests.web.conftest import World
from tests.web.public_helpers import PERSON, request_appointment, visitor
from tests.web.test_newsletter import sign_up

EVIL = "Visit https://evil.example/pay to confirm"


@pytest.fixture(scope="module")
def mailbox(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as (box, smtp):
        settings = world.app.state.settings
        world.app.state.settings = dataclasses.replace(settings, smtp=smtp,
                                                       public_url="http://site.test")
        yield box
        world.app.state.settings = settings


def to(mailbox: Mailbox, address: str) -> list:
    return [m for m in mailbox.messages if m["To"] == address]


def test_one_inbox_gets_a_few_confirmations_however_many_senders(
        world: World, mailbox: Mailbox) -> None:
    """13 sign-ups for one address from 3 addresses, and appointment requests naming it: the
    inbox gets `PER_RECIPIENT`, and every sender sees the same answer."""
    victim = "victim@example.org"
    senders = [visitor(world) for _ in range(3)]
    answers = [sign_up(world, senders[n % 3], victim if n % 2 else victim.upper())
               for n in range(13)]
    assert {(a.status_code, a.headers["location"]) for a in answers} == {
        (303, "/newsletter/check-your-email")}
    requests = [request_appointment(world, sender, {**PERSON, "email": victim})
                for sender in senders]
    assert {a.headers["location"] for a in requests} == {"/appointment/sent"}
    assert len(to(mailbox, victim)) + len(to(mailbox, victim.upper())) == PER_RECIPIENT == 3
    with world.sessions() as db:  # the requests themselves reach the clinic
        assert db.scalar(select(func.count()).select_from(AppointmentRequest).where(
            AppointmentRequest.email == victim)) == 3


def test_one_sender_address_mails_a_few_inboxes_a_day(world: World, mailbox: Mailbox) -> None:
    sender = visitor(world)
    addresses = [f"reader{n}@example.org" for n in range(5)]
    for address in addresses:
        assert sign_up(world, sender, address).status_code == 303
    patients = [f"patient{n}@example.org" for n in range(4)]
    for address in patients:
        assert request_appointment(world, sender, {**PERSON, "email": address}).status_code \
            == 303
    mailed = [a for a in addresses + patients if to(mailbox, a)]
    assert len(mailed) == PER_SENDER == 8 and mailed == (addresses + patients)[:8]
    other = "reader-elsewhere@example.org"  # another sender is not held back
    assert sign_up(world, visitor(world), other).status_code == 303 and to(mailbox, other)


def test_a_confirmation_carries_nothing_the_visitor_typed(world: World,
                                                          mailbox: Mailbox) -> None:
    address = "aimed@example.org"
    answer = request_appointment(world, visitor(world), {
        **PERSON, "given_name": EVIL, "family_name": "evil.example", "email": address,
        "preferred_times": "https://evil.example/call", "message": EVIL})
    assert answer.status_code == 303
    (message,) = to(mailbox, address)
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Hello,") and "North Clinic" in message["Subject"]
    assert "evil" not in (body + message["Subject"]).lower() and "Visit" not in body

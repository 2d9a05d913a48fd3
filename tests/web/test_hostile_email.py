"""CRLF and other line breaks in every email field (the appointment request, the newsletter,
a patient's reminder address, a user's email): refused with a sentence, or kept as harmless
text; then the outbox is delivered to a real SMTP server (aiosmtpd), which must receive no
header and no recipient the sender did not mean."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.notify import deliver_due
from sijcare.notify.outbox import enqueue
from sijcare.store.models import OutboxEmail
from tests.fuzzing import report_counts
from tests.smtp_server import smtp_server
from tests.web.conftest import PASSWORD, World
from tests.web.public_helpers import PERSON, hidden, request_appointment, visitor
from tests.web.test_worklist import injection, points

EVIL = "evil@example.net"
BREAKS = ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\t", "\x00",
          "\r\n\r\n"]
HOSTILE = [f"ada@example.org{b}Bcc:{EVIL}" for b in BREAKS] + [
    f"{b}Bcc:{EVIL}{b}ada@example.org" for b in ("\r\n", "\n")] + [
    f"ada@example.org, {EVIL}", f"ada@example.org;{EVIL}", f"Ada <{EVIL}>",
    "ada%0d%0aBcc:x@example.org"]  # text, not a break: harmless if kept as it is
_usernames = itertools.count(1)
TRIED: dict[str, int] = {}


def newsletter(world: World, address: str):  # type: ignore[no-untyped-def]
    client = visitor(world)
    form = client.get("/newsletter").text
    world.clock.now += 5
    return client.post("/newsletter", data={"csrf_token": hidden(form, "csrf_token"),
                                            "started": hidden(form, "started"),
                                            "email": address}, follow_redirects=False)


def appointment(world: World, address: str):  # type: ignore[no-untyped-def]
    return request_appointment(world, visitor(world), {**PERSON, "email": address})


def reminder(world: World, address: str):  # type: ignore[no-untyped-def]
    episode_id, _ = injection(world, days_ago=12)
    point = points(world, episode_id)["2w"]
    return world.signed_in("clinician").post(
        f"/episodes/{episode_id}/follow-up/{point.id}/send", data={"email": address},
        follow_redirects=False)


def user_email(world: World, address: str, admin: TestClient):  # type: ignore[no-untyped-def]
    return admin.post("/admin/users", data={
        "username": f"crlf{next(_usernames)}", "password": PASSWORD, "role": "staff",
        "clinic_ids": str(world.ids["north"]), "email": address})


def test_no_email_field_lets_a_header_through(world: World, tmp_path: Path) -> None:
    admin = world.signed_in("admin")
    forms = {"newsletter": newsletter, "appointment": appointment, "reminder": reminder,
             "user": lambda w, a: user_email(w, a, admin)}
    for name, send in forms.items():
        for address in HOSTILE:
            answer = send(world, address)
            TRIED[name] = TRIED.get(name, 0) + 1
            assert answer.status_code in (200, 303, 422), (name, repr(address), answer.status_code)
    with world.sessions() as db:
        queued = list(db.scalars(select(OutboxEmail)))
        for email in queued:  # nothing with a break or a second address reached the outbox
            assert not any(c in email.to_address for c in "".join(BREAKS) + ",;<> "), email
        with smtp_server(tmp_path) as (mailbox, smtp):
            delivery = deliver_due(db, smtp)
            db.commit()
    assert not delivery.failed
    assert mailbox.messages, "nothing was delivered: the test would prove nothing"
    for message in mailbox.messages:
        assert message["Bcc"] is None and EVIL not in str(message["To"]), message["To"]
        assert all(EVIL not in str(value) for value in message.values())
    TRIED["delivered"] = len(mailbox.messages)
    report_counts("email fields", TRIED)


@pytest.mark.parametrize("address", HOSTILE[:-1])
def test_the_outbox_refuses_an_address_with_a_break_whoever_calls_it(world: World,
                                                                     address: str) -> None:
    """The last line of defence: whatever a caller checked, the outbox takes one address."""
    with world.sessions() as db, pytest.raises(ValueError, match="not one email address"):
        enqueue(db, address, "Hello", "Body")

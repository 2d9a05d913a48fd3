"""Issue 20, L11 and L12: a public form is sent once per showing, and PDFs fetch nothing but
the app's own static files.

L11: the signed "started" field held only the time, so one form fetched once could be sent
again and again for 12 hours, from any address, with anything in it. L12: WeasyPrint used its
default URL fetcher, which reads `file://` URLs (and fetches `http://` ones) named in the HTML.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sijcare.store.models import AppointmentRequest, NewsletterSubscription
from tests.web.conftest import World
from tests.web.public_helpers import PERSON, hidden, visitor


def stored(world: World, table: type) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count()).select_from(table)) or 0


@pytest.mark.parametrize(("path", "table", "fields"), [
    ("/newsletter", NewsletterSubscription, {"email": "once@example.org"}),
    ("/appointment", AppointmentRequest, PERSON)])
def test_a_form_shown_once_is_sent_once(world: World, path: str, table: type,
                                        fields: dict) -> None:
    first = visitor(world)
    form = first.get(path).text
    world.clock.now += 5
    started = hidden(form, "started")
    sent = first.post(path, data={"csrf_token": hidden(form, "csrf_token"),
                                  "started": started, **fields}, follow_redirects=False)
    assert sent.status_code == 303
    after_first = stored(world, table)
    for sender in (first, visitor(world)):  # again, and from another address
        token = hidden(sender.get(path).text, "csrf_token")
        world.clock.now += 5
        changed = {key: "eve." + value if key in ("email", "family_name") else value
                   for key, value in fields.items()}
        replay = sender.post(path, data={"csrf_token": token, "started": started, **changed},
                             follow_redirects=False)
        assert replay.status_code == 303  # told nothing, like a robot
    assert stored(world, table) == after_first


def test_two_forms_shown_in_the_same_second_are_both_good(world: World) -> None:
    before = stored(world, NewsletterSubscription)
    people = [visitor(world), visitor(world)]
    forms = [person.get("/newsletter").text for person in people]  # the clock stands still
    assert hidden(forms[0], "started") != hidden(forms[1], "started")
    world.clock.now += 5
    for n, (person, form) in enumerate(zip(people, forms, strict=True)):
        assert person.post("/newsletter", data={
            "csrf_token": hidden(form, "csrf_token"), "started": hidden(form, "started"),
            "email": f"same.second.{n}@example.org"}, follow_redirects=False).status_code == 303
    assert stored(world, NewsletterSubscription) == before + 2

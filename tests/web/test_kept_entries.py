"""Nothing typed is lost when a session ends: a form sent after 30 idle minutes is kept
(sealed, for its user only, once), the password is asked, and it is saved after sign-in."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store.models import KeptEntries
from tests.web.conftest import PASSWORD, TODAY, World, build_world
from tests.web.test_first_visit import VISIT, new_episode, records


@pytest.fixture
def world(tmp_path) -> World:  # its own clock: the timeout moves it
    return build_world(tmp_path)


def page_client(world: World, username: str) -> TestClient:
    """A browser-like client: signed in through the page, tokens taken from the forms."""
    client = world.client()
    page = client.get("/login").text
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": token_in(page)})
    assert answer.status_code == 200, answer.text[:500]
    return client


def token_in(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def idle_submission(world: World) -> tuple[TestClient, int, str]:
    """A first visit typed, then sent after 31 idle minutes: the sign-in page comes back."""
    client = page_client(world, "clinician")
    episode = new_episode(world.signed_in("clinician"))
    form = client.get(f"/episodes/{episode}/records/first_visit").text
    world.clock.now += 31 * 60
    answer = client.post(f"/episodes/{episode}/records/first_visit",
                         data={**VISIT, "csrf_token": token_in(form)})
    return client, episode, answer.text


def test_a_form_sent_after_the_session_ended_is_kept_and_saved_after_sign_in(
        world: World) -> None:
    client, episode, page = idle_submission(world)
    assert "What you entered is kept" in page
    assert 'name="password"' in page and 'value="clinician"' in page
    with world.sessions() as db:
        kept = db.scalars(select(KeptEntries)).one()
        assert "Left buttock" not in kept.sealed and "physical_therapy" not in kept.sealed
    kept_token = re.search(r'name="kept" value="([^"]+)"', page).group(1)
    resumed = client.post("/login", data={"username": "clinician", "password": PASSWORD,
                                          "kept": kept_token, "csrf_token": token_in(page)})
    assert 'data-send-on-load' in resumed.text and "intake.pain_nrs" in resumed.text
    sent = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', resumed.text)
    action = re.search(r'<form method="post" action="([^"]+)"', resumed.text).group(1)
    fields: dict[str, list[str]] = {}
    for name, value in sent:
        fields.setdefault(name, []).append(html.unescape(value))
    saved = client.post(action, data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    assert sorted(r["kind"] for r in records(world.signed_in("clinician"), episode)) == [
        "care_course", "exam", "intake", "medications", "prom", "prom"]
    with world.sessions() as db:  # used once: nothing is left behind
        assert db.scalars(select(KeptEntries)).all() == []


def test_kept_entries_are_only_their_users_and_a_wrong_password_keeps_them(
        world: World) -> None:
    client, _, page = idle_submission(world)
    kept_token = re.search(r'name="kept" value="([^"]+)"', page).group(1)
    wrong = client.post("/login", data={"username": "clinician", "password": "not it",
                                        "kept": kept_token, "csrf_token": token_in(page)})
    assert wrong.status_code == 401 and f'value="{kept_token}"' in wrong.text
    other = world.client()
    form = other.get("/login").text
    answer = other.post("/login", data={"username": "staff", "password": PASSWORD,
                                        "kept": kept_token, "csrf_token": token_in(form)},
                        follow_redirects=False)
    assert answer.status_code == 303  # signed in, but another user's entries are not given
    with world.sessions() as db:
        assert len(db.scalars(select(KeptEntries)).all()) == 1


def test_a_forged_or_foreign_form_is_still_refused(world: World) -> None:
    client = page_client(world, "clinician")
    episode = new_episode(world.signed_in("clinician"))
    world.clock.now += 31 * 60
    answer = client.post(f"/episodes/{episode}/records/first_visit",
                         data={**VISIT, "csrf_token": "not-the-token"})
    assert answer.status_code == 403
    with world.sessions() as db:
        assert db.scalars(select(KeptEntries)).all() == []
    assert TODAY  # the visit's dates are today's

"""Admin: a role is always chosen, accounts are deactivated and reactivated, passwords reset
(and changed at next sign-in), each effective on the user's very next request; demo accounts
are listed at start-up."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, User, load_demo
from sijcare.web.admin.accounts import demo_accounts
from tests.web.conftest import PASSWORD, World, build_world
from tests.web.test_forms import error_of

TEMPORARY = "temporary pass 123"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A world of its own: these tests deactivate and reset its users."""
    built = build_world(tmp_path_factory.mktemp("admin"))
    yield built
    built.engine.dispose()


@pytest.fixture(scope="module")
def admin(world: World) -> TestClient:
    return world.signed_in("admin")


def user(world: World, username: str) -> User:
    with world.sessions() as db:
        found = db.scalar(select(User).where(User.username == username))
        db.expunge(found)
        return found


def test_the_role_has_no_default_and_is_required(admin: TestClient) -> None:
    page = admin.get("/admin/users").text
    assert re.search(r'<option value="" disabled selected>Choose a role</option>', page)
    assert "Not recorded" not in page.split('name="role"')[1].split("</select>")[0]
    answer = admin.post("/admin/users", data={"username": "norole", "password": "x" * 14},
                        follow_redirects=False)
    assert answer.status_code == 422
    assert error_of(answer.text, "role") == "choose a role"


def test_deactivation_ends_open_sessions_at_once_and_reactivation_restores(
        world: World, admin: TestClient) -> None:
    staff = world.signed_in("staff")
    assert staff.get("/patients").status_code == 200
    staff_id = world.ids["staff"]
    assert admin.post(f"/admin/users/{staff_id}/deactivate",
                      follow_redirects=False).status_code == 303
    assert user(world, "staff").active is False
    assert staff.get("/patients", follow_redirects=False).headers["location"].startswith(
        "/login")  # the very next request, not after the actor cache ages
    token = staff.get("/api/v1/session").json()["csrf_token"]
    refused = staff.post("/api/v1/session", json={"username": "staff", "password": PASSWORD},
                         headers={"x-csrf-token": token})
    assert refused.status_code == 403 and "deactivated" in refused.text
    guessed = staff.post("/api/v1/session", json={"username": "staff", "password": "guess" * 3},
                         headers={"x-csrf-token": token})
    assert guessed.status_code == 401 and "deactivated" not in guessed.text  # tells nothing
    assert "Reactivate" in admin.get("/admin/users").text
    again = admin.post(f"/admin/users/{staff_id}/deactivate", follow_redirects=False)
    assert again.status_code == 422 and "inactive already" in again.text
    assert admin.post(f"/admin/users/{staff_id}/reactivate",
                      follow_redirects=False).status_code == 303
    assert world.signed_in("staff").get("/patients").status_code == 200
    with world.sessions() as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "user", AuditEvent.object_id == str(staff_id)))]
    assert "deactivate" in actions and "activate" in actions


def test_an_admin_cannot_deactivate_themself(world: World, admin: TestClient) -> None:
    answer = admin.post(f"/admin/users/{world.ids['admin']}/deactivate",
                        follow_redirects=False)
    assert answer.status_code == 422
    assert "your own account" in answer.text
    assert user(world, "admin").active


def test_a_reset_password_must_be_changed_at_next_sign_in(world: World,
                                                          admin: TestClient) -> None:
    researcher = world.signed_in("researcher")
    short = admin.post(f"/admin/users/{world.ids['researcher']}/password",
                       data={"password": "short"}, follow_redirects=False)
    assert short.status_code == 422 and "at least 12 characters" in short.text
    done = admin.post(f"/admin/users/{world.ids['researcher']}/password",
                      data={"password": TEMPORARY}, follow_redirects=False)
    assert done.status_code == 303
    assert researcher.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert user(world, "researcher").must_change_password

    fresh = world.signed_in("researcher", TEMPORARY)
    assert fresh.get("/", follow_redirects=False).headers["location"] == "/account/password"
    api = fresh.post("/api/v1/assess", json={})
    assert api.status_code == 403 and "password was reset" in api.json()["detail"]
    assert "An administrator reset your password" in fresh.get("/account/password").text

    wrong = fresh.post("/account/password", data={
        "current": "not it at all", "new": "a brand new pass", "repeat": "something else"},
        follow_redirects=False)
    assert wrong.status_code == 422
    assert error_of(wrong.text, "current") == "this is not your current password"
    assert error_of(wrong.text, "repeat") == "the two new passwords differ"
    changed = fresh.post("/account/password", data={
        "current": TEMPORARY, "new": "a brand new pass", "repeat": "a brand new pass"},
        follow_redirects=False)
    assert changed.status_code == 303
    assert fresh.get("/", follow_redirects=False).status_code == 200  # still signed in
    assert not user(world, "researcher").must_change_password
    assert world.signed_in("researcher", "a brand new pass")


def test_clinic_time_zones_are_validated(world: World, admin: TestClient) -> None:
    north = world.ids["north"]
    bad = admin.post(f"/admin/clinics/{north}/time-zone", data={"time_zone": "Mars/Olympus"},
                     follow_redirects=False)
    assert bad.status_code == 422 and "is not a time zone" in bad.text
    good = admin.post(f"/admin/clinics/{north}/time-zone",
                      data={"time_zone": "Europe/Berlin"}, follow_redirects=False)
    assert good.status_code == 303
    assert 'value="Europe/Berlin"' in admin.get("/admin/users").text


def test_demo_accounts_are_listed_and_the_demo_author_cannot_sign_in(world: World) -> None:
    with world.sessions() as db:
        load_demo(db, n=1)
        db.commit()
        listed = demo_accounts(db)
    assert ("demo", "clinician", "deactivated: authors the demo records") in listed
    assert user(world, "demo").active is False

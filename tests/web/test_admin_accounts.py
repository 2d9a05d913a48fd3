"""Admin, round two: editing a user's role, clinics, name and credentials; the last sign-in;
locked names and unlocking them; a confirmation before deactivation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, User
from tests.web.conftest import PASSWORD, World, build_world
from tests.web.test_forms import error_of


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A world of its own: these tests change its users."""
    built = build_world(tmp_path_factory.mktemp("accounts"))
    yield built
    built.engine.dispose()


@pytest.fixture(scope="module")
def admin(world: World) -> TestClient:
    return world.signed_in("admin")


def account(world: World, username: str) -> User:
    with world.sessions() as db:
        found = db.scalar(select(User).where(User.username == username))
        assert found.profile is None or found.profile.user_id == found.id  # loaded
        db.expunge_all()
        return found


def events(world: World, user_id: int) -> list[AuditEvent]:
    with world.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "user", AuditEvent.object_id == str(user_id))))


def attempt(client: TestClient, username: str, password: str):
    """A sign-in through the API, with the browser's CSRF token."""
    token = client.get("/api/v1/session").json()["csrf_token"]
    return client.post("/api/v1/session", json={"username": username, "password": password},
                       headers={"x-csrf-token": token})


def test_an_admin_edits_role_clinics_name_and_credentials(world: World, admin: TestClient
                                                          ) -> None:
    staff_id = world.ids["south_staff"]
    page = admin.get(f"/admin/users/{staff_id}").text
    assert 'name="full_name"' in page and 'name="credentials"' in page
    saved = admin.post(f"/admin/users/{staff_id}", data={
        "role": "clinician", "clinic_ids": [str(world.ids["north"]), str(world.ids["south"])],
        "full_name": "Dr Ana Ruiz", "credentials": "MD, FIPP"}, follow_redirects=False)
    assert saved.status_code == 303
    changed = account(world, "south_staff")
    assert (changed.role, changed.profile.full_name, changed.profile.credentials) == (
        "clinician", "Dr Ana Ruiz", "MD, FIPP")
    assert changed.approval_pending  # a new clinician waits for another admin's approval
    assert sorted(m.clinic_id for m in changed.memberships) == sorted(
        [world.ids["north"], world.ids["south"]])
    audit = [e for e in events(world, staff_id) if e.action == "change_access"]
    assert audit[-1].detail["before"]["role"] == "staff"
    assert audit[-1].detail["after"]["role"] == "clinician"
    listed = admin.get("/admin/users").text
    assert "Dr Ana Ruiz, MD, FIPP" in listed


def test_every_problem_of_the_edit_is_shown_and_nothing_is_saved(world: World,
                                                                 admin: TestClient) -> None:
    clinician_id = world.ids["clinician"]
    answer = admin.post(f"/admin/users/{clinician_id}", data={
        "role": "wizard", "full_name": "x" * 130, "credentials": ""})
    assert answer.status_code == 422
    assert error_of(answer.text, "role") == "choose one of the listed options"
    assert error_of(answer.text, "full_name") == "needs at most 120 characters"
    assert account(world, "clinician").role == "clinician"
    own = admin.post(f"/admin/users/{world.ids['admin']}", data={"role": "staff"})
    assert own.status_code == 422 and "your own role" in own.text
    assert account(world, "admin").role == "admin"


def test_deactivation_is_confirmed_first(world: World, admin: TestClient) -> None:
    staff_id = world.ids["staff"]
    listed = admin.get("/admin/users").text
    assert f'href="/admin/users/{staff_id}/deactivate"' in listed  # a link to ask, not a post
    confirm = admin.get(f"/admin/users/{staff_id}/deactivate").text
    assert "Deactivate staff?" in confirm and "Keep the account active" in confirm
    assert account(world, "staff").active  # asking changes nothing
    admin.post(f"/admin/users/{staff_id}/deactivate")
    assert not account(world, "staff").active
    admin.post(f"/admin/users/{staff_id}/reactivate")


def test_last_sign_in_and_a_locked_name_shown_and_unlocked(world: World,
                                                          admin: TestClient) -> None:
    world.signed_in("researcher")
    assert account(world, "researcher").profile.last_sign_in_at is not None
    client = world.client()
    for _ in range(world.app.state.settings.login_failures_allowed):
        attempt(client, "staff", "wrong guess 1")
    assert attempt(client, "staff", PASSWORD).status_code == 429
    listed = admin.get("/admin/users").text
    row = listed.split("<td>staff</td>")[1].split("</tr>")[0]
    assert "locked" in row and "/unlock" in row
    assert "never" not in listed.split("<td>researcher</td>")[1].split("</tr>")[0]
    assert admin.post(f"/admin/users/{world.ids['staff']}/unlock",
                      follow_redirects=False).status_code == 303
    assert "/unlock" not in admin.get("/admin/users").text.split("<td>staff</td>")[1] \
        .split("</tr>")[0]
    assert world.signed_in("staff").get("/patients").status_code == 200
    assert any(e.action == "unlock" for e in events(world, world.ids["staff"]))


def test_a_deactivated_user_is_told_only_after_the_right_password(world: World,
                                                                  admin: TestClient) -> None:
    user_id = world.ids["south_clinician"]
    admin.post(f"/admin/users/{user_id}/deactivate")
    client = world.client()
    wrong = attempt(client, "south_clinician", "nope" * 4)
    assert "Wrong username or password" in wrong.text and "deactivated" not in wrong.text
    right = attempt(client, "south_clinician", PASSWORD)
    assert right.status_code == 403 and "This account is deactivated" in right.text
    assert "Wrong username" not in right.text
    admin.post(f"/admin/users/{user_id}/reactivate")

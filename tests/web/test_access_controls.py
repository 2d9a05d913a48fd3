"""Item 9's sign-in parts (issue 25): re-authentication for admin changes, a second admin's
approval of clinician accounts, break-glass access, and notices on password reset and new
devices."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, User, create_user
from sijcare.store.models import BreakGlassGrant, OutboxEmail
from sijcare.store.second_factors import confirm_enrolment, start_enrolment
from sijcare.web.auth.passwords import hash_password
from tests.web.conftest import PASSWORD, World, build_world
from tests.web.test_second_factor import csrf, mails


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("controls"))
    with built.sessions() as db:
        other = create_user(db, "other_admin", hash_password(PASSWORD), "admin", [],
                            email="other@example.org")
        built.ids["other_admin"] = other.id
        db.get(User, built.ids["admin"]).email = "admin@example.org"
        db.get(User, built.ids["south_clinician"]).email = "south@example.org"
        db.commit()
    # the second admin enrols like the first (admins must)
    with built.sessions() as db:
        start_enrolment(db, other.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        confirm_enrolment(db, other.id, 0, [])
        db.commit()
    built.totp_secrets["other_admin"] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    yield built
    built.engine.dispose()


def events(world: World, action: str) -> list[AuditEvent]:
    with world.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.seq.desc())))


def new_user(admin: TestClient, username: str, role: str, clinic_id: int):
    return admin.post("/admin/users", data={
        "username": username, "password": PASSWORD, "role": role,
        "clinic_ids": str(clinic_id), "email": f"{username}@example.org"},
        follow_redirects=False)


def test_admin_changes_ask_for_the_password_and_code_again_after_a_while(world: World) -> None:
    admin = world.signed_in("admin")
    world.clock.now += world.app.state.settings.reauth_seconds + 1
    stale = admin.post(f"/admin/users/{world.ids['staff']}/deactivate", follow_redirects=False,
                       headers={"referer": "http://testserver/admin/users"})
    assert stale.status_code == 303
    assert stale.headers["location"] == "/account/confirm?next=%2Fadmin%2Fusers"
    with world.sessions() as db:
        assert db.get(User, world.ids["staff"]).active  # nothing happened
    form = admin.get("/account/confirm?next=/admin/users")
    assert 'name="code"' in form.text  # the admin has a second factor: it is asked too
    wrong = admin.post("/account/confirm", data={"password": PASSWORD, "code": "000000",
                                                 "next": "/admin/users"})
    assert wrong.status_code == 401
    confirmed = admin.post("/account/confirm", follow_redirects=False, data={
        "password": PASSWORD, "code": world.one_time_code("admin"), "next": "/admin/users"})
    assert confirmed.headers["location"] == "/admin/users"
    assert events(world, "reauthenticate")[0].detail == {"second_factor": "totp"}
    assert admin.post(f"/admin/users/{world.ids['staff']}/deactivate",
                      follow_redirects=False).headers["location"] == "/admin/users"
    admin.post(f"/admin/users/{world.ids['staff']}/reactivate")


def test_a_clinician_account_needs_a_second_admins_approval(world: World) -> None:
    admin = world.signed_in("admin")
    assert new_user(admin, "newdoc", "clinician", world.ids["north"]).status_code == 303
    with world.sessions() as db:
        doc = db.scalar(select(User).where(User.username == "newdoc"))
        assert doc.approval_pending and doc.email == "newdoc@example.org"
    newdoc = world.signed_in("newdoc")
    patient = f"/patients/{world.ids['patient']}"
    assert newdoc.get(patient).status_code == 403
    assert newdoc.get("/api/v1/patients").status_code == 403
    own = admin.post(f"/admin/users/{doc.id}/approve")
    assert own.status_code == 422 and "another administrator" in own.text
    other = world.signed_in("other_admin")
    assert other.post(f"/admin/users/{doc.id}/approve",
                      follow_redirects=False).status_code == 303
    world.clock.now += 10  # the actor cache ages
    assert newdoc.get(patient).status_code == 200
    assert events(world, "approve")[0].actor_id == world.ids["other_admin"]
    # staff accounts need no approval (they never read the clinical record)
    assert new_user(admin, "newdesk", "staff", world.ids["north"]).status_code == 303
    assert world.signed_in("newdesk").get(patient).status_code == 200


def test_break_glass_opens_reading_for_a_while_with_a_reason_audited_and_reported(
        world: World) -> None:
    south = world.signed_in("south_clinician")
    patient, episode = world.ids["patient"], world.ids["episode"]
    assert south.get(f"/patients/{patient}").status_code == 404
    short = south.post("/break-glass", data={"patient_id": str(patient), "reason": "urgent"})
    assert short.status_code == 422 and "say why" in short.text
    missing = south.post("/break-glass", data={"patient_id": "999999",
                                               "reason": "Unconscious in our ER, allergies?"})
    assert missing.status_code == 422
    reason = "Unconscious in our ER; need the anticoagulant history"
    opened = south.post("/break-glass", data={"patient_id": str(patient), "reason": reason},
                        follow_redirects=False)
    assert opened.headers["location"] == f"/patients/{patient}"
    assert south.get(f"/patients/{patient}").status_code == 200
    assert south.get(f"/episodes/{episode}").status_code == 200
    assert south.get(f"/api/v1/episodes/{episode}").status_code == 200
    # reading only: no record, note or signature in another clinic
    assert south.post(f"/episodes/{episode}/notes", data={"text": "x"}).status_code == 404
    read = events(world, "read")[0]
    assert read.actor_id == world.ids["south_clinician"] and read.detail["break_glass"]
    grant = events(world, "break_glass")[0]
    assert grant.detail["reason"] == reason and grant.clinic_id == world.ids["north"]
    assert mails(world, "admin@example.org", "break_glass") == 1
    assert mails(world, "other@example.org", "break_glass") == 1
    with world.sessions() as db:
        text = db.scalar(select(OutboxEmail.text).where(
            OutboxEmail.kind == "security_break_glass").limit(1))
    assert "south_clinician" in text and "North" not in text  # no patient name by email
    with world.sessions() as db:  # grants expire by the database's clock: let this one end
        for row in db.scalars(select(BreakGlassGrant)):
            row.expires_at = row.granted_at
        db.commit()
    assert south.get(f"/patients/{patient}").status_code == 404
    # staff hold no clinical_read: no break-glass for them
    assert world.signed_in("south_staff").post("/break-glass", data={
        "patient_id": str(patient), "reason": reason}).status_code == 403


def test_a_password_reset_and_a_new_device_are_announced(world: World) -> None:
    admin = world.signed_in("admin")
    temporary = "a fresh temporary passphrase"
    assert admin.post(f"/admin/users/{world.ids['south_clinician']}/password",
                      data={"password": temporary}, follow_redirects=False).status_code == 303
    assert mails(world, "south@example.org", "password_reset") == 1
    assert mails(world, "other@example.org", "password_reset") == 1
    before = mails(world, "south@example.org", "new_device")
    client = world.client()
    token = csrf(client)
    assert client.post("/api/v1/session", headers={"x-csrf-token": token}, json={
        "username": "south_clinician", "password": temporary}).status_code == 200
    assert mails(world, "south@example.org", "new_device") == before + 1
    client.delete("/api/v1/session", headers={"x-csrf-token": csrf(client)})
    again = client.post("/api/v1/session", headers={"x-csrf-token": csrf(client)}, json={
        "username": "south_clinician", "password": temporary})
    assert again.status_code == 200  # the same browser: known, nothing sent
    assert mails(world, "south@example.org", "new_device") == before + 1


def test_an_email_with_a_line_break_is_refused(world: World) -> None:
    admin = world.signed_in("admin")
    for hostile in ("x@example.org\r\nBcc: all@example.org", "x@example.org\nSubject: hi",
                    "x@example.org, y@example.org", "<x@example.org>"):
        answer = admin.post("/admin/users", data={
            "username": "crlf", "password": PASSWORD, "role": "staff",
            "clinic_ids": str(world.ids["north"]), "email": hostile})
        assert answer.status_code == 422 and "not one email address" in answer.text
    with world.sessions() as db:
        assert db.scalar(select(User).where(User.username == "crlf")) is None

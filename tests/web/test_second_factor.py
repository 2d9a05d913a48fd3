"""Multi-factor sign-in (issue 25, item 2): enrolment, the two-step sign-in on the page and
the API, replays, recovery codes, throttling, the per-clinic requirement, an admin's reset,
and the notices that go out by email."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, Clinic, User, create_user
from sijcare.store.models import OutboxEmail, RecoveryCode, WebSession
from sijcare.web.auth.passwords import hash_password
from tests.web.conftest import PASSWORD, World, build_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("mfa"))
    with built.sessions() as db:
        for name, role in (("second_admin", "admin"), ("newadmin", "admin"),
                           ("optional", "clinician"), ("strict", "clinician")):
            clinics = [built.ids["north"]] if name == "optional" else (
                [built.ids["south"]] if name == "strict" else [])
            user = create_user(db, name, hash_password(PASSWORD), role, clinics,
                               email=f"{name}@example.org")
            built.ids[name] = user.id
        db.get(User, built.ids["admin"]).email = "admin@example.org"
        db.commit()
    yield built
    built.engine.dispose()


def csrf(client: TestClient) -> str:
    return client.get("/api/v1/session").json()["csrf_token"]


def password_step(client: TestClient, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password,
                                       "next": "/patients", "csrf_token": csrf(client)},
                       follow_redirects=False)


def code_step(client: TestClient, code: str):
    return client.post("/login/code", data={"code": code, "next": "/patients",
                                            "csrf_token": csrf(client)}, follow_redirects=False)


def enrol(world: World, client: TestClient, username: str) -> tuple[str, list[str]]:
    """Enrol through the page; the secret and the recovery codes it showed."""
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "<svg" in page.text  # the QR code, inline
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    world.clock.now += 30
    done = client.post("/account/two-factor", data={
        "code": pyotp.TOTP(secret).at(world.clock.now), "csrf_token": csrf(client)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.text)
    world.totp_secrets[username] = secret
    return secret, codes


def mails(world: World, to: str, kind: str) -> int:
    with world.sessions() as db:
        return len(db.scalars(select(OutboxEmail.id).where(
            OutboxEmail.to_address == to, OutboxEmail.kind == f"security_{kind}")).all())


def last_events(world: World, action: str, n: int = 1) -> list[AuditEvent]:
    with world.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.seq.desc()).limit(n)))


def test_an_admin_must_enrol_before_anything_else(world: World) -> None:
    client = world.signed_in("newadmin")
    answer = client.get("/admin/users", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/account/two-factor"
    assert client.get("/api/v1/patients").status_code == 403
    wrong = client.post("/account/two-factor", data={"code": "000000",
                                                      "csrf_token": csrf(client)})
    assert wrong.status_code == 422 and "does not match" in wrong.text
    _, codes = enrol(world, client, "newadmin")
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/admin/users").status_code == 200
    assert last_events(world, "enrol_second_factor")[0].actor_id == world.ids["newadmin"]
    with world.sessions() as db:  # only hashes of the recovery codes are stored
        stored = set(db.scalars(select(RecoveryCode.code_hash).where(
            RecoveryCode.user_id == world.ids["newadmin"])))
    assert len(stored) == 10 and not any(c in stored for c in codes)


def test_the_page_asks_for_the_code_after_the_password_and_a_code_works_once(
        world: World) -> None:
    client = world.client()
    answer = password_step(client, "admin")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login/code")
    assert client.get("/admin/users", follow_redirects=False).status_code == 303  # not yet in
    world.clock.now += 30
    code = pyotp.TOTP(world.totp_secrets["admin"]).at(world.clock.now)
    assert code_step(client, code).headers["location"] == "/patients"
    assert client.get("/admin/users").status_code == 200
    again = world.client()  # the same code, replayed on another browser
    password_step(again, "admin")
    refused = code_step(again, code)
    assert refused.status_code == 401 and "already used" in refused.text
    event = last_events(world, "sign_in", 2)
    assert event[0].detail["outcome"] == "wrong_code"
    assert event[1].detail["outcome"] == "signed_in"
    assert event[1].detail["second_factor"] == "totp"


def test_the_api_wants_the_code_with_the_password(world: World) -> None:
    client = world.client()
    without = client.post("/api/v1/session", headers={"x-csrf-token": csrf(client)},
                          json={"username": "admin", "password": PASSWORD})
    assert without.status_code == 401 and "one_time_code" in without.json()["detail"]
    assert client.get("/api/v1/session").json()["user"] is None
    assert world.signed_in("admin").get("/admin/users").status_code == 200


def test_a_recovery_code_signs_in_once(world: World) -> None:
    client = world.signed_in("optional")
    _, codes = enrol(world, client, "optional")
    first = world.client()
    password_step(first, "optional")
    assert code_step(first, codes[0].upper()).status_code == 303  # case and dash forgiven
    assert mails(world, "optional@example.org", "new_device") == 1  # a browser it never used
    second = world.client()
    password_step(second, "optional")
    assert code_step(second, codes[0]).status_code == 401
    assert last_events(world, "sign_in", 2)[1].detail["second_factor"] == "recovery_code"


def test_wrong_codes_lock_the_account_and_tell_the_user_and_the_admins(world: World) -> None:
    enrol(world, world.signed_in("second_admin"), "second_admin")
    client = world.client()
    password_step(client, "second_admin")
    for _ in range(5):
        assert code_step(client, "123456").status_code in (401, 429)
    world.clock.now += 30
    right = pyotp.TOTP(world.totp_secrets["second_admin"]).at(world.clock.now)
    locked = code_step(client, right)
    assert locked.status_code in (303, 429)
    assert locked.status_code == 429 or locked.headers["location"] == "/login"
    assert password_step(world.client(), "second_admin").status_code == 429  # password too
    assert mails(world, "second_admin@example.org", "lockout") == 1
    assert mails(world, "admin@example.org", "lockout") == 1
    world.clock.now += 15 * 60 + 1
    assert password_step(world.client(), "second_admin").status_code == 303


def test_the_code_must_follow_the_password_within_minutes(world: World) -> None:
    client = world.client()
    password_step(client, "admin")
    world.clock.now += world.app.state.settings.second_step_seconds + 1
    code = pyotp.TOTP(world.totp_secrets["admin"]).at(world.clock.now)
    answer = code_step(client, code)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/api/v1/session").json()["user"] is None


def test_a_clinic_can_require_it_of_its_clinicians(world: World) -> None:
    strict = world.signed_in("strict")
    assert strict.get("/patients").status_code == 200  # optional so far
    admin = world.signed_in("admin")
    assert admin.post(f"/admin/clinics/{world.ids['south']}/second-factor",
                      data={"required": "yes"}, follow_redirects=False).status_code == 303
    with world.sessions() as db:
        assert db.get(Clinic, world.ids["south"]).second_factor_required
    world.clock.now += 10  # the actor cache ages
    answer = strict.get("/patients", follow_redirects=False)
    assert answer.headers["location"] == "/account/two-factor"
    assert world.signed_in("clinician").get("/patients").status_code == 200  # north: optional
    admin.post(f"/admin/clinics/{world.ids['south']}/second-factor", data={"required": "no"})


def test_an_admins_reset_ends_the_users_sessions(world: World) -> None:
    user = world.signed_in("optional")
    admin = world.signed_in("admin")
    done = admin.post(f"/admin/users/{world.ids['optional']}/two-factor/reset",
                      follow_redirects=False)
    assert done.status_code == 303
    assert user.get("/api/v1/session").json()["user"] is None
    with world.sessions() as db:
        assert not db.scalars(select(WebSession).where(
            WebSession.user_id == world.ids["optional"])).all()
    event = last_events(world, "reset_second_factor")[0]
    assert event.actor_id == world.ids["admin"] and event.detail["sessions_ended"] >= 1
    assert mails(world, "optional@example.org", "second_factor_reset") == 1
    del world.totp_secrets["optional"]
    assert world.signed_in("optional").get("/patients").status_code == 200  # no code asked

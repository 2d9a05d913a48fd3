"""Issue 20, L5, L7 and L8: sign-in counting, passwords and idle time.

L5: every attempt was counted (and committed) before its password was checked and taken back
on success, so concurrent correct sign-ins on PostgreSQL counted each other (8 at once gave
3 x 429), and an attempt whose request failed midway stayed counted (5 crashes locked the
user out). L7: `aaaaaaaaaaaa`, `password1234` and the username itself were good passwords.
L8: `last_seen` was written once a minute, so `SIJCARE_IDLE_MINUTES=1` signed out a user
who had been active all along.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from sijcare.store import create_clinic, create_user, session_factory
from sijcare.web import Settings, create_app
from sijcare.web.admin.accounts import AccountError, add_user
from sijcare.web.auth import signin
from sijcare.web.auth.passwords import hash_password, password_problem
from tests.store.helpers import fresh_database, migrated
from tests.web.conftest import PASSWORD, World
from tests.web.test_security_errors import serving
from tests.web.test_security_sessions import sign_in_form

AT_ONCE = 8


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_correct_sign_ins_at_once_are_never_throttled(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        engine = migrated(url)
        with session_factory(engine)() as db:
            clinic = create_clinic(db, "Busy Clinic")
            create_user(db, "dr.busy", hash_password(PASSWORD), "clinician", [clinic.id])
            db.commit()
        app = create_app(Settings(database_url=url, secret_key=b"test secret"), engine)
        start = threading.Barrier(AT_ONCE)

        def sign_in(base: str) -> int:
            with httpx.Client(base_url=base, timeout=60) as client:
                token = client.get("/api/v1/session").json()["csrf_token"]
                start.wait()
                return client.post("/api/v1/session", headers={"x-csrf-token": token},
                                   json={"username": "dr.busy", "password": PASSWORD}
                                   ).status_code

        with serving(app) as port, ThreadPoolExecutor(AT_ONCE) as pool:
            statuses = list(pool.map(sign_in, [f"http://127.0.0.1:{port}"] * AT_ONCE))
        with engine.connect() as connection:
            left = app.state.throttle.tracked(connection)
        engine.dispose()
    assert statuses == [200] * AT_ONCE
    assert left == 0  # a sign-in that succeeded is never counted


def test_a_sign_in_that_fails_midway_leaves_no_attempt_counted(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def crashes(password_hash: str | None, password: str) -> bool:
        raise RuntimeError("the request died while the password was checked")

    with monkeypatch.context() as broken:
        broken.setattr(signin, "verify_password", crashes)
        for _ in range(6):
            assert sign_in_form(world.client(), "staff", PASSWORD).status_code == 500
    assert sign_in_form(world.client(), "staff", PASSWORD).status_code == 200


def test_wrong_passwords_are_still_counted_and_lock(world: World) -> None:
    client = world.client()
    for _ in range(5):
        assert sign_in_form(client, "researcher", "wrong password!").status_code == 401
    locked = sign_in_form(client, "researcher", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    world.clock.now += 15 * 60 + 1
    assert sign_in_form(client, "researcher", PASSWORD).status_code == 200


def test_a_right_password_found_after_the_lock_is_refused_too(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guesses sent at once all pass the first look at the count; one that turns out right
    after the others have locked the name is refused as well, so firing many at once buys no
    more guesses than sending them one by one."""
    client = world.client()
    for _ in range(4):
        assert sign_in_form(client, "admin", "wrong password!").status_code == 401
    real, throttle = signin.verify_password, world.app.state.throttle

    def slow_right_guess(password_hash: str | None, password: str) -> bool:
        with world.sessions() as other:  # another guess fails while this one is checked
            throttle.failed(other, throttle.key("admin", "testclient"))
            other.commit()
        return real(password_hash, password)

    with monkeypatch.context() as racing:
        racing.setattr(signin, "verify_password", slow_right_guess)
        assert sign_in_form(client, "admin", PASSWORD).status_code == 429
    world.clock.now += 15 * 60 + 1
    token = client.get("/api/v1/session").json()["csrf_token"]
    assert client.post("/api/v1/session", headers={"x-csrf-token": token}, json={
        "username": "admin", "password": PASSWORD,
        "one_time_code": world.one_time_code("admin")}).status_code == 200


# -- L7: new passwords ---------------------------------------------------------------------

WEAK = ["aaaaaaaaaaaa", "password1234", "qwertyuiop12", "123456789012", "Password1234!"]


@pytest.mark.parametrize("password", WEAK)
def test_a_common_or_repetitive_password_is_refused(password: str) -> None:
    assert "too easy to guess" in password_problem(password, "dr.lee")


@pytest.mark.parametrize(("username", "password"), [
    ("maria.gonzalez", "maria.gonzalez"), ("maria.gonzalez", "MARIA.GONZALEZ"),
    ("maria.gonzalez", "maria.gonzalez.2026"), ("lee", "leeleeleeleelee")])
def test_a_password_with_the_username_in_it_is_refused(username: str, password: str) -> None:
    problem = password_problem(password, username)
    assert problem == "must not contain your username" or "too easy to guess" in problem


def test_good_passwords_pass() -> None:
    for password in (PASSWORD, "temporary pass 123", "lantern quietly orbit 42",
                     "x" * 10 + "Tr0ub4dour&3" + "y" * 100):
        assert password_problem(password, "dr.lee") is None, password
    assert password_problem("short", "dr.lee") == "use at least 12 characters"
    assert "control characters" in password_problem("tab\there and more", "dr.lee")


def test_every_way_to_set_a_password_checks_it(world: World) -> None:
    admin = world.signed_in("admin")
    created = admin.post("/admin/users", data={"username": "maria.gonzalez",
                                               "password": "maria.gonzalez", "role": "staff"})
    assert created.status_code == 422 and "your username" in created.text
    reset = admin.post(f"/admin/users/{world.ids['staff']}/password",
                       data={"password": "password1234"})
    assert reset.status_code == 422 and "too easy to guess" in reset.text
    clinician = world.signed_in("clinician")
    changed = clinician.post("/account/password", data={
        "current": PASSWORD, "new": "aaaaaaaaaaaa", "repeat": "aaaaaaaaaaaa"})
    assert changed.status_code == 422 and "too easy to guess" in changed.text
    with world.sessions() as db, pytest.raises(AccountError, match="password: too easy"):
        add_user(db, "dr.new", "password1234", "clinician", [])


# -- L8: idle time -------------------------------------------------------------------------


def test_idle_time_counts_from_the_last_request_to_the_second(world: World) -> None:
    app = create_app(Settings(database_url="sqlite://", secret_key=b"test secret",
                              clock=world.clock, idle_timeout_seconds=60), world.engine)
    client = TestClient(app)
    assert sign_in_form(client, "clinician", PASSWORD).status_code == 200
    for _ in range(4):  # active every 50 s: never 60 s idle
        world.clock.now += 50
        assert client.get("/api/v1/patients").status_code == 200
    world.clock.now += 59
    assert client.get("/api/v1/patients").status_code == 200
    world.clock.now += 61
    assert client.get("/api/v1/patients").status_code == 401

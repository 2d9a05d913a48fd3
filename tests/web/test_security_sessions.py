"""Issue 6, defect 3: sign-outs, idle timeouts, password changes, disabled accounts and the
sign-in throttle hold across restarts and across several server processes on one database.

A restarted server is a new app on the same database; the last test runs two real
`sijcare serve` processes, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from sijcare.store import User
from sijcare.store.web_sessions import end_user_sessions
from sijcare.web import Settings, create_app
from sijcare.web.auth.passwords import hash_password
from sijcare.web.auth.sessions import COOKIE
from tests.store.helpers import fresh_database
from tests.web.conftest import PASSWORD, World
from tests.web.processes import SECRET, cli, servers


def another_server(world: World) -> TestClient:
    """A second server process on the same database, or the first one restarted."""
    app = create_app(Settings(database_url="sqlite://", secret_key=b"test secret",
                              clock=world.clock), world.engine)
    return TestClient(app)


def with_cookie(client: TestClient, cookie: str) -> TestClient:
    client.cookies.set(COOKIE, cookie)
    return client


def test_a_sign_out_holds_on_every_server_and_after_a_restart(world: World) -> None:
    client = world.signed_in("clinician")
    copied = client.cookies[COOKIE]
    other = with_cookie(another_server(world), copied)
    assert other.get("/api/v1/patients").status_code == 200  # one sign-in, two servers
    assert client.delete("/api/v1/session").status_code == 204
    assert other.get("/api/v1/patients").status_code == 401
    assert with_cookie(another_server(world), copied).get("/api/v1/patients").status_code == 401
    assert with_cookie(world.client(), copied).get("/api/v1/patients").status_code == 401


def test_an_idle_timeout_holds_after_a_restart(world: World) -> None:
    client = world.signed_in("clinician")
    copied = client.cookies[COOKIE]
    world.clock.now += 31 * 60
    restarted = with_cookie(another_server(world), copied)
    assert restarted.get("/api/v1/patients").status_code == 401


def test_activity_on_one_server_keeps_the_session_alive_on_the_other(world: World) -> None:
    client = world.signed_in("clinician")
    other = with_cookie(another_server(world), client.cookies[COOKIE])
    for _ in range(3):
        world.clock.now += 20 * 60
        assert other.get("/api/v1/patients").status_code == 200
    assert client.get("/api/v1/patients").status_code == 200  # 60 minutes, never 30 idle


def test_a_password_change_ends_every_session_at_once(world: World) -> None:
    client = world.signed_in("staff")
    other = with_cookie(another_server(world), client.cookies[COOKIE])
    with world.sessions() as db:
        user = db.get(User, world.ids["staff"])
        original, user.password_hash = user.password_hash, hash_password("a new password!")
        db.commit()
    try:
        assert client.get("/api/v1/patients").status_code == 401  # no cache delay
        assert other.get("/api/v1/patients").status_code == 401
    finally:
        with world.sessions() as db:
            db.get(User, world.ids["staff"]).password_hash = original
            db.commit()
    assert client.get("/api/v1/patients").status_code == 401  # the old sign-in stays ended


def test_a_disabled_account_is_refused_at_once_everywhere(world: World) -> None:
    client = world.signed_in("researcher")
    other = with_cookie(another_server(world), client.cookies[COOKIE])
    with world.sessions() as db:
        db.get(User, world.ids["researcher"]).active = False
        db.commit()
    try:
        assert client.get("/api/v1/session").json()["user"] is None
        assert other.get("/api/v1/session").json()["user"] is None
    finally:
        with world.sessions() as db:
            db.get(User, world.ids["researcher"]).active = True
            db.commit()


def test_ending_a_users_sessions_is_one_call(world: World) -> None:
    """The hook for deactivation and password resets (`end_user_sessions`)."""
    first, second = world.signed_in("clinician"), world.signed_in("clinician")
    with world.sessions() as db:
        assert end_user_sessions(db, world.ids["clinician"]) >= 2
        db.commit()
    assert first.get("/api/v1/patients").status_code == 401
    assert second.get("/api/v1/patients").status_code == 401


def sign_in_form(client: TestClient, username: str, password: str):
    token = client.get("/api/v1/session").json()["csrf_token"]
    return client.post("/api/v1/session", json={"username": username, "password": password},
                       headers={"x-csrf-token": token})


def test_a_throttle_lock_holds_after_a_restart_and_on_another_server(world: World) -> None:
    client = world.client()
    for _ in range(5):
        assert sign_in_form(client, "south_staff", "wrong password").status_code == 401
    assert sign_in_form(another_server(world), "south_staff", PASSWORD).status_code == 429
    world.clock.now += 15 * 60 + 1
    assert sign_in_form(another_server(world), "south_staff", PASSWORD).status_code == 200


# -- two real server processes (tests/web/processes.py) ---------------------------------------


def patients(base: str, cookie: str) -> int:
    return httpx.get(base + "/api/v1/patients", cookies={COOKIE: cookie}).status_code


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_server_processes_agree_on_a_sign_out_also_after_restarting(
        backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        env = {**os.environ, "SIJCARE_SECRET_KEY": SECRET,
               "SIJCARE_DATA_DIR": str(tmp_path / "data")}
        env.pop("SIJCARE_DATABASE_URL", None)
        cli("user", "add", "dr.two", "--role", "clinician", "--clinic", "Two Clinic",
            "--password-stdin", "--url", url, env=env, stdin=PASSWORD + "\n")
        with servers(url, env) as (first, second):
            client = httpx.Client(base_url=first)
            token = client.get("/api/v1/session").json()["csrf_token"]
            signed_in = client.post("/api/v1/session", headers={"x-csrf-token": token},
                                    json={"username": "dr.two", "password": PASSWORD})
            assert signed_in.status_code == 200
            cookie = client.cookies[COOKIE]
            assert patients(first, cookie) == patients(second, cookie) == 200
            assert client.delete("/api/v1/session", headers={
                "x-csrf-token": signed_in.json()["csrf_token"]}).status_code == 204
            assert patients(first, cookie) == patients(second, cookie) == 401
        with servers(url, env) as (first, second):  # both restarted
            assert patients(first, cookie) == patients(second, cookie) == 401

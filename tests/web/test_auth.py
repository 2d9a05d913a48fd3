"""Signing in and out: cookies, CSRF, throttling, idle timeout and revocation."""

from __future__ import annotations

import base64
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sijcare.store import User
from sijcare.store.models import SignInFailure
from sijcare.web import Settings, create_app
from sijcare.web.auth.sessions import COOKIE
from sijcare.web.auth.throttle import LoginThrottle
from tests.web.conftest import PASSWORD, Clock, World
from tests.web.test_security_errors import serving


def form_token(client: TestClient, path: str = "/login") -> str:
    page = client.get(path).text
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)


def sign_in_form(client: TestClient, username: str, password: str = PASSWORD,
                 next_path: str = "/"):
    return client.post("/login", data={"username": username, "password": password,
                                       "next": next_path, "csrf_token": form_token(client)},
                       follow_redirects=False)


def test_sign_in_form_sets_a_locked_down_session_cookie(world: World) -> None:
    client = world.client()
    answer = sign_in_form(client, "clinician", next_path="/patients")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/patients"
    (cookie,) = [c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in the test client
    assert client.get("/patients").status_code == 200


def test_cookie_is_secure_over_https_or_when_configured(world: World) -> None:
    over_tls = TestClient(world.app, base_url="https://testserver")
    assert "; Secure" in sign_in_form(over_tls, "clinician").headers["set-cookie"]
    settings = Settings(database_url="sqlite://", secret_key=b"test secret",
                        secure_cookies=True, clock=world.clock)
    forced = TestClient(create_app(settings, world.engine))
    assert "; Secure" in forced.get("/login").headers["set-cookie"]


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "/\t/evil.example",
                                    "https://evil.example/"])
def test_next_never_leaves_the_site(world: World, target: str) -> None:
    answer = sign_in_form(world.client(), "clinician", next_path=target)
    assert answer.headers["location"] == "/"


def test_wrong_password_is_refused_without_saying_which_part(world: World) -> None:
    for username in ("clinician", "nobody-at-all"):
        answer = sign_in_form(world.client(), username, "wrong password!")
        assert answer.status_code == 401
        assert "Wrong username or password." in answer.text


def test_pages_redirect_to_sign_in_and_api_answers_401(world: World) -> None:
    client = world.client()
    page = client.get("/episodes/1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/episodes/1"
    api = client.get("/api/v1/patients")
    assert api.status_code == 401
    assert api.json() == {"detail": "Sign in first (POST /api/v1/session)."}


def test_unsafe_requests_without_the_csrf_token_are_refused(world: World) -> None:
    client = world.signed_in("clinician")
    token = client.headers.pop("x-csrf-token")
    form = {"family_name": "Csrf", "given_name": "Test", "birth_date": "1980-01-01",
            "sex": "male"}
    assert client.post("/patients", data=form).status_code == 403
    assert client.post("/patients", data={**form, "csrf_token": "0" * 64}).status_code == 403
    assert client.post("/api/v1/patients", json=form).status_code == 403
    assert client.post("/api/v1/patients", json=form,
                       headers={"x-csrf-token": "forged"}).status_code == 403
    assert client.post("/api/v1/patients", json=form,
                       headers={"x-csrf-token": token}).status_code == 201


def test_the_sign_in_form_itself_needs_its_token(world: World) -> None:
    client = world.client()
    client.get("/login")
    answer = client.post("/login", data={"username": "clinician", "password": PASSWORD})
    assert answer.status_code == 403


def test_five_failures_lock_the_username_from_that_address(world: World) -> None:
    client = world.client()
    for _ in range(5):
        assert sign_in_form(client, "staff", "not the password").status_code == 401
    locked = sign_in_form(client, "staff")  # even the right password
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "Too many failed attempts" in locked.text
    assert sign_in_form(client, "clinician").status_code == 303  # another username is fine
    world.clock.now += 15 * 60 + 1
    assert sign_in_form(client, "staff").status_code == 303


def test_the_api_sign_in_is_throttled_too(world: World) -> None:
    client = world.client()
    token = client.get("/api/v1/session").json()["csrf_token"]
    answers = [client.post("/api/v1/session", headers={"x-csrf-token": token},
                           json={"username": "researcher", "password": "nope"}).status_code
               for _ in range(6)]
    assert answers == [401] * 5 + [429]
    world.clock.now += 15 * 60 + 1


def test_idle_sessions_end_after_thirty_minutes(world: World) -> None:
    client = world.signed_in("clinician")
    world.clock.now += 29 * 60
    assert client.get("/patients").status_code == 200  # activity renews the session
    world.clock.now += 29 * 60
    assert client.get("/api/v1/patients").status_code == 200
    world.clock.now += 30 * 60 + 1
    page = client.get("/patients", follow_redirects=False)
    assert page.headers["location"] == "/login?next=/patients"
    assert "signed out after 30 minutes without activity" in client.get(page.headers[
        "location"]).text
    assert client.get("/api/v1/patients").status_code == 401


def test_signing_out_ends_the_session_even_for_a_copied_cookie(world: World) -> None:
    client = world.signed_in("clinician")
    copied = client.cookies[COOKIE]
    assert client.delete("/api/v1/session").status_code == 204
    thief = world.client()
    thief.cookies.set(COOKIE, copied)
    assert thief.get("/api/v1/patients").status_code == 401


def test_a_forged_cookie_is_ignored(world: World) -> None:
    client = world.signed_in("clinician")
    payload, signature = client.cookies[COOKIE].split(".")
    client.cookies.set(COOKIE, payload + "." + signature[::-1])
    assert client.get("/api/v1/patients").status_code == 401


def test_security_headers_forbid_framing_and_outside_scripts(world: World) -> None:
    headers = world.client().get("/login").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_every_form_carries_the_sessions_token(world: World) -> None:
    forms_seen = 0
    for user, paths in (("clinician", ["/patients/new", "/patients/{patient}",
                                       "/episodes/{episode}", "/episodes/{episode}/records/exam"]),
                        ("admin", ["/admin/users"])):
        client = world.signed_in(user)
        token = client.headers["x-csrf-token"]
        for path in paths:
            page = client.get(path.format(**world.ids)).text
            forms = re.findall(r'<form[^>]*method="post".*?</form>', page, re.S)
            assert forms, path
            for form in forms:
                assert f'name="csrf_token" value="{token}"' in form, (path, form[:200])
            forms_seen += len(forms)
    assert forms_seen >= 10


def test_a_disabled_account_loses_access_within_seconds(world: World) -> None:
    client = world.signed_in("researcher")
    assert client.get("/").status_code == 200
    with world.sessions() as db:
        db.get(User, world.ids["researcher"]).active = False
        db.commit()
    world.clock.now += world.app.state.settings.actor_cache_seconds + 1
    assert client.get("/api/v1/session").json()["user"] is None
    assert client.get("/api/v1/patients").status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303
    with world.sessions() as db:
        db.get(User, world.ids["researcher"]).active = True
        db.commit()


def test_guesses_at_once_cannot_outrun_the_throttle(world: World) -> None:
    """Twenty wrong guesses at once, each one's password checked while the others arrive:
    every failure is counted, so the name is locked afterwards, even to its password."""
    start = threading.Barrier(20)

    def guess(base: str, password: str = "a guess!", wait: bool = True) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:
            token = client.get("/api/v1/session").json()["csrf_token"]
            if wait:
                start.wait()
            return client.post("/api/v1/session", headers={"x-csrf-token": token},
                               json={"username": "south_clinician", "password": password}
                               ).status_code

    with serving(world.app) as port, ThreadPoolExecutor(20) as pool:
        base = f"http://127.0.0.1:{port}"
        statuses = list(pool.map(guess, [base] * 20))
        assert set(statuses) <= {401, 429, 503}
        with world.sessions() as db:
            counted = db.scalar(select(func.count()).select_from(SignInFailure).where(
                SignInFailure.username == "south_clinician"))
        assert counted == statuses.count(401) >= 5
        assert guess(base, PASSWORD, wait=False) == 429
    world.clock.now += 15 * 60 + 1


def test_rotating_addresses_meets_the_per_username_limit(world: World) -> None:
    def from_address(n: int) -> TestClient:
        return TestClient(world.app, client=(f"10.0.0.{n}", 50000))

    for n in range(5):  # 4 failures from each of 5 addresses: under the per-address limit
        client = from_address(n)
        for _ in range(4):
            assert sign_in_form(client, "staff", "not the password").status_code == 401
    fresh = from_address(99)
    assert sign_in_form(fresh, "staff").status_code == 429  # even the right password
    assert sign_in_form(fresh, "clinician").status_code == 303
    world.clock.now += 15 * 60 + 1
    assert sign_in_form(fresh, "staff").status_code == 303


def test_the_throttle_keeps_only_recent_failures(world: World) -> None:
    clock = Clock()
    clock.now = world.clock.now + 10 * 24 * 3600  # past every failure other tests left
    throttle = LoginThrottle(5, 15 * 60, clock)
    with world.sessions() as db:
        for n in range(100):  # a username tried once each, as when spraying names
            throttle.failed(db, throttle.key(f"user{n}", "10.0.0.1"))
        assert throttle.tracked(db) == 100
        throttle.succeeded(db, throttle.key("user0", "10.0.0.1"))
        assert throttle.tracked(db) == 99
        locked = throttle.key("locked", "10.0.0.1")
        for _ in range(5):
            assert throttle.wait(db, locked) is None
            throttle.failed(db, locked)
        assert throttle.wait(db, locked) == 15 * 60 + 1
        assert throttle.wait(db, throttle.key("locked", "10.0.0.2")) is None  # per address
        clock.now += 15 * 60 + 1
        throttle.failed(db, throttle.key("someone", "10.0.0.2"))
        assert throttle.tracked(db) == 1  # every expired entry is gone
        db.rollback()


@pytest.mark.parametrize("cookie", ["abc.\u00e9", "\u00e9\u00e9.abc", "e30.\u00ff" * 3])
def test_a_cookie_that_is_not_ascii_is_no_session(world: World, cookie: str) -> None:
    client = world.client()
    header = f"{COOKIE}={cookie}".encode("latin-1")
    assert client.get("/login", headers={"cookie": header}).status_code == 200
    assert client.get("/api/v1/patients", headers={"cookie": header}).status_code == 401


def test_a_csrf_token_that_is_not_ascii_is_refused(world: World) -> None:
    client = world.signed_in("clinician")
    answer = client.post("/api/v1/patients", json={"family_name": "X"},
                         headers={"x-csrf-token": "\u00e9".encode("latin-1")})
    assert answer.status_code == 403


def test_notices_in_the_cookie_carry_no_patient_data(world: World) -> None:
    client = world.signed_in("clinician")

    def cookie_payload(answer) -> str:  # type: ignore[no-untyped-def]
        payload = answer.cookies[COOKIE].split(".")[0]
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()

    registered = client.post("/patients", follow_redirects=False, data={
        "family_name": "Zebedee", "given_name": "Secretname", "birth_date": "1980-01-01",
        "sex": "male"})
    assert registered.status_code == 303
    assert json.loads(cookie_payload(registered))["f"] == "Patient registered."
    opened = client.post(registered.headers["location"] + "/episodes", follow_redirects=False,
                         data={"complaint": "Bleeding after a fall", "opened_on": "2026-01-02"})
    assert opened.status_code == 303
    assert json.loads(cookie_payload(opened))["f"] == "Episode opened."
    for payload in (cookie_payload(registered), cookie_payload(opened)):
        assert "Zebedee" not in payload and "Secretname" not in payload
        assert "Bleeding" not in payload

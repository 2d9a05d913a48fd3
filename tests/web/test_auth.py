"""Signing in and out: cookies, CSRF, throttling, idle timeout and revocation."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sijcare.store import User
from sijcare.web import Settings, create_app
from sijcare.web.sessions import COOKIE
from tests.web.conftest import PASSWORD, World


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
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
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

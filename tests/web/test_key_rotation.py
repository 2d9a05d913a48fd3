"""Rotating SIJCARE_SECRET_KEY: sessions, form tokens and questionnaire links made with the
previous key keep working through the grace period, and stop working when it ends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sijcare.store.keyring import KeyRotationError, PreviousKey, previous_from_file
from sijcare.store.questionnaires import LinkRefused, issue_link, open_link
from sijcare.web.app import create_app
from sijcare.web.settings import Settings, previous_secret_key, secret_key
from tests.web.conftest import World, build_world
from tests.web.test_worklist import injection, points

OLD, NEW = b"the old secret key, 32 bytes or more", b"the new secret key, 32 bytes or more"
DAY = 86400.0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("rotation"))
    yield built
    built.engine.dispose()


def rotated(world: World, previous: PreviousKey | None) -> TestClient:
    """The same database served after the rotation: NEW signs, OLD is the previous key."""
    settings = Settings(database_url=str(world.engine.url), secret_key=NEW,
                        previous_secret_key=previous, clock=world.clock)
    return TestClient(create_app(settings, world.engine))


def signed_in_before(world: World) -> TestClient:
    """A clinician signed in under OLD, holding its cookie and form token."""
    before = Settings(database_url=str(world.engine.url), secret_key=OLD, clock=world.clock)
    world.app = create_app(before, world.engine)
    return world.signed_in("clinician")


def carry(old: TestClient, new: TestClient) -> TestClient:
    new.cookies.update(old.cookies)
    new.headers["x-csrf-token"] = old.headers["x-csrf-token"]
    return new


def test_an_old_session_and_form_token_work_during_grace_and_not_after(world: World) -> None:
    old = signed_in_before(world)
    grace = PreviousKey(OLD, world.clock.now + 7 * DAY)
    during = carry(old, rotated(world, grace))
    assert during.get("/api/v1/patients").status_code == 200
    opened = during.post(f"/api/v1/patients/{world.ids['patient']}/episodes",
                         json={"complaint": "Right buttock pain", "opened_on": "2026-10-01"})
    assert opened.status_code == 201, opened.text  # the old page's CSRF token still passes
    world.clock.now += 7 * DAY
    after = carry(old, rotated(world, grace))
    assert after.get("/api/v1/patients").status_code == 401
    never = carry(old, rotated(world, None))
    world.clock.now -= 7 * DAY
    assert never.get("/api/v1/patients").status_code == 401


def test_a_new_session_is_signed_with_the_new_key(world: World) -> None:
    grace = PreviousKey(OLD, world.clock.now + DAY)
    app = rotated(world, grace).app
    world.app = app
    client = world.signed_in("clinician")
    only_new = carry(client, rotated(world, None))
    assert only_new.get("/api/v1/patients").status_code == 200


def test_an_old_questionnaire_link_opens_during_grace_only(world: World) -> None:
    episode_id, _ = injection(world, days_ago=12)
    point = points(world, episode_id)["2w"]
    with world.sessions() as db:
        _, token = issue_link(db, point.id, world.ids["clinician"], OLD, days=14)
        db.commit()
        grace = Settings(database_url="", secret_key=NEW, clock=world.clock,
                         previous_secret_key=PreviousKey(OLD, world.clock.now + DAY))
        assert open_link(db, token, grace.accepted_keys()).first_name
        world.clock.now += DAY
        try:
            with pytest.raises(LinkRefused) as refused:
                open_link(db, token, grace.accepted_keys())
        finally:
            world.clock.now -= DAY
        assert refused.value.reason == "tampered"


def test_the_previous_key_comes_from_the_environment_with_its_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIJCARE_SECRET_KEY", NEW.decode())
    monkeypatch.setenv("SIJCARE_PREVIOUS_SECRET_KEY", OLD.decode())
    with pytest.raises(KeyRotationError, match="SIJCARE_PREVIOUS_SECRET_KEY_UNTIL"):
        previous_secret_key(tmp_path)
    monkeypatch.setenv("SIJCARE_PREVIOUS_SECRET_KEY_UNTIL", "next week")
    with pytest.raises(KeyRotationError, match="ISO 8601"):
        previous_secret_key(tmp_path)
    monkeypatch.setenv("SIJCARE_PREVIOUS_SECRET_KEY_UNTIL", "2027-03-31")
    previous = previous_secret_key(tmp_path)
    assert previous is not None and previous.secret == OLD
    assert previous.until_text == "2027-03-31T00:00:00+00:00"


def test_rotating_the_key_file_keeps_the_old_key_beside_it(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from sijcare.cli import app

    monkeypatch.delenv("SIJCARE_SECRET_KEY", raising=False)
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path / "data"))
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    assert CliRunner().invoke(app, ["db", "upgrade", "--url", url]).exit_code == 0
    first = secret_key(tmp_path / "data")
    done = CliRunner().invoke(app, ["keys", "rotate-secret", "--grace-days", "30",
                                    "--url", url])
    assert done.exit_code == 0, done.output
    assert "accepted until" in done.stdout
    kept = tmp_path / "data" / "secret_key.previous"
    assert kept.stat().st_mode & 0o777 == 0o600 and json.loads(kept.read_text())["key"]
    previous = previous_from_file(tmp_path / "data" / "secret_key")
    assert previous is not None and previous.secret == first
    assert secret_key(tmp_path / "data") not in (first, b"")
    audit = CliRunner().invoke(app, ["audit", "verify", "--url", url])
    assert audit.exit_code == 0, audit.output

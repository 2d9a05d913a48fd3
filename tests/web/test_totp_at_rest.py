"""TOTP secrets are encrypted at rest under a key outside the database: the column never holds
the base32 secret, secrets stored in the clear before are encrypted by `upgrade`, and the key
rotates with a grace period (file: `sijcare keys rotate-totp`; environment: the previous key
beside the new one) while everyone enrolled keeps signing in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from sijcare.cli import app
from sijcare.store import AuditEvent, upgrade
from sijcare.store.models import SecondFactor
from sijcare.store.second_factors import secret_of
from sijcare.store.totp_secrets import (
    PREVIOUS_ENV,
    TOTP_KEY_ENV,
    SecretUnreadable,
    TotpKeys,
    decrypt,
    encrypt,
    encrypt_stored_secrets,
    totp_keys,
)
from tests.store.helpers import fresh_database
from tests.web.conftest import ADMIN_SECRET, World, build_world
from tests.web.test_second_factor import enrol

OLD, NEW = "the old TOTP key, 32 bytes or more", "the new TOTP key, 32 bytes or more"
runner = CliRunner()


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A data directory of this test's own, so the key file is made here."""
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path / "data"))
    for name in (TOTP_KEY_ENV, PREVIOUS_ENV, f"{PREVIOUS_ENV}_UNTIL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "data"


@pytest.fixture
def world(data_dir: Path, tmp_path: Path) -> Iterator[World]:
    built = build_world(tmp_path)
    yield built
    built.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def either_world(request: pytest.FixtureRequest, data_dir: Path,
                 tmp_path: Path) -> Iterator[World]:
    """The world on SQLite, then on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as url:
        built = build_world(tmp_path, url=url)
        yield built
        built.engine.dispose()


def stored(world: World, username: str = "admin") -> str:
    """The column as the database holds it, read with plain SQL."""
    with world.engine.connect() as connection:
        return connection.execute(text(
            "SELECT secret FROM second_factors JOIN users ON users.id = user_id "
            "WHERE username = :name"), {"name": username}).scalar_one()


def signs_in(world: World, username: str = "admin") -> bool:
    client = world.client()
    token = client.get("/api/v1/session").json()["csrf_token"]
    code = world.one_time_code(username)
    answer = client.post("/api/v1/session", headers={"x-csrf-token": token}, json={
        "username": username, "password": "correct horse battery", "one_time_code": code})
    return answer.status_code == 200


def test_the_column_never_holds_the_secret_after_enrolment(world: World) -> None:
    assert ADMIN_SECRET not in stored(world) and stored(world).startswith("t1.")
    client = world.signed_in("clinician")
    page = client.get("/account/two-factor")  # the key shown, not yet confirmed
    waiting = stored(world, "clinician")
    assert waiting.startswith("t1.") and waiting.removeprefix("t1.") not in page.text
    secret, _ = enrol(world, client, "clinician")
    assert secret not in stored(world, "clinician") and secret.lower() not in stored(
        world, "clinician").lower()
    assert len(stored(world, "clinician")) <= 64
    assert signs_in(world, "clinician") and signs_in(world)


def test_clear_secrets_are_encrypted_by_upgrade_and_sign_in_keeps_working(
        either_world: World) -> None:
    world = either_world
    with world.engine.begin() as connection:  # as the release before stored it
        connection.execute(update(SecondFactor).values(secret=ADMIN_SECRET))
    assert stored(world) == ADMIN_SECRET and signs_in(world)  # read as it was until then
    upgrade(world.engine)
    assert stored(world).startswith("t1.") and ADMIN_SECRET not in stored(world)
    assert signs_in(world)
    before = stored(world)
    upgrade(world.engine)  # nothing left to do: the same key writes nothing new
    assert stored(world) == before


def test_rotating_the_key_file_encrypts_every_secret_again_and_sign_in_keeps_working(
        either_world: World, data_dir: Path) -> None:
    world = either_world
    before, key_before = stored(world), (data_dir / "totp_key").read_text()
    url = world.engine.url.render_as_string(hide_password=False)
    done = runner.invoke(app, ["keys", "rotate-totp", "--grace-days", "7", "--url", url])
    assert done.exit_code == 0, done.output
    assert "the previous one is accepted until" in done.stdout
    assert (data_dir / "totp_key").read_text() != key_before
    after = stored(world)
    assert after.startswith("t1.") and after != before and ADMIN_SECRET not in after
    assert signs_in(world)  # the running app read the new key file by itself
    keys = totp_keys()
    only_new = TotpKeys(keys.current, keys.source)
    admin = world.ids["admin"]
    assert decrypt(admin, after, only_new) == ADMIN_SECRET  # the new key alone opens it
    with pytest.raises(SecretUnreadable):
        decrypt(admin, before, only_new)
    with world.sessions() as db:
        [entry] = db.scalars(select(AuditEvent).where(AuditEvent.action == "rotate",
                                                      AuditEvent.object_type == "totp_key"))
    assert entry.detail and entry.detail["reencrypted"] == 1


def test_a_secret_under_the_previous_key_opens_during_grace_only(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server whose key was rotated in the environment, before any upgrade ran."""
    admin = world.ids["admin"]
    monkeypatch.setenv(TOTP_KEY_ENV, OLD)
    with world.sessions() as db:
        db.execute(update(SecondFactor).where(SecondFactor.user_id == admin).values(
            secret=encrypt(admin, ADMIN_SECRET)))
        db.commit()
    under_old = stored(world)
    monkeypatch.setenv(TOTP_KEY_ENV, NEW)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    monkeypatch.setenv(PREVIOUS_ENV, OLD)
    monkeypatch.setenv(f"{PREVIOUS_ENV}_UNTIL", until.isoformat())
    assert signs_in(world)  # the previous key still opens it
    with pytest.raises(SecretUnreadable, match="an admin must reset it"):
        decrypt(admin, under_old, now=until.timestamp() + 1)  # not after its grace
    upgrade(world.engine)  # as `serve` does at its start: under the new key now
    assert stored(world) != under_old
    monkeypatch.delenv(PREVIOUS_ENV)
    monkeypatch.delenv(f"{PREVIOUS_ENV}_UNTIL")
    assert signs_in(world)


def test_a_secret_copied_onto_another_users_row_does_not_open(world: World) -> None:
    """The owner of the database copies their own encrypted secret onto the admin's row."""
    client = world.signed_in("clinician")
    secret, _ = enrol(world, client, "clinician")
    theirs = stored(world, "clinician")
    with world.engine.begin() as connection:
        connection.execute(update(SecondFactor).where(
            SecondFactor.user_id == world.ids["admin"]).values(secret=theirs))
    world.totp_secrets["admin"] = secret  # the codes of the authenticator they hold
    assert not signs_in(world)
    with world.sessions() as db:
        factor = db.scalar(select(SecondFactor).where(
            SecondFactor.user_id == world.ids["admin"]))
        with pytest.raises(SecretUnreadable):
            secret_of(factor)
        assert encrypt_stored_secrets(db).unreadable == 1  # said, and left for a reset


def test_a_short_key_is_refused_with_its_name(world: World,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOTP_KEY_ENV, "short")
    url = world.engine.url.render_as_string(hide_password=False)
    refused = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert refused.exit_code == 2 and "SIJCARE_TOTP_KEY is 5 bytes long" in refused.stderr
    elsewhere = runner.invoke(app, ["keys", "rotate-totp", "--url", url])
    assert elsewhere.exit_code == 2 and "SIJCARE_TOTP_KEY is set" in elsewhere.stderr

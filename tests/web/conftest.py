"""A migrated temp SQLite database per test module, with two clinics and a user per role.

`north` is the clinic under test; `south` is another clinic whose users must never see
north's patients. Everyone shares one password, hashed once (argon2 is slow on purpose).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sijcare.store import (
    add_record,
    create_clinic,
    create_episode,
    create_patient,
    create_user,
    make_engine,
    session_factory,
    sign_assessment,
    upgrade,
)
from sijcare.store.second_factors import confirm_enrolment, start_enrolment
from sijcare.web import Settings, create_app
from sijcare.web.assessing import assess_episode
from sijcare.web.auth.passwords import hash_password

PASSWORD = "correct horse battery"
# Admins must sign in with a second factor: the world's admin has this authenticator.
ADMIN_SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TF"
ROLES = ("clinician", "staff", "researcher", "admin")
TODAY = dt.date.today()


class Clock:
    """A settable clock for idle timeouts and the sign-in throttle."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    app: FastAPI
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    ids: dict[str, int] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)

    def client(self) -> TestClient:
        return TestClient(self.app)

    def one_time_code(self, username: str) -> str | None:
        """The user's current code, if they have an authenticator. The clock moves on a step
        first: a code is accepted once, and the world's clock stands still."""
        secret = self.totp_secrets.get(username)
        if secret is None:
            return None
        self.clock.now += 30
        return pyotp.TOTP(secret).at(self.clock.now)

    def signed_in(self, username: str, password: str = PASSWORD) -> TestClient:
        """A client with a session; it sends its CSRF token on every request."""
        client = self.client()
        token = client.get("/api/v1/session").json()["csrf_token"]
        credentials = {"username": username, "password": password}
        if (code := self.one_time_code(username)) is not None:
            credentials["one_time_code"] = code
        answer = client.post("/api/v1/session", json=credentials,
                             headers={"x-csrf-token": token})
        assert answer.status_code == 200, answer.text
        client.headers["x-csrf-token"] = answer.json()["csrf_token"]
        return client


def build_world(directory, clock: Clock | None = None, url: str | None = None) -> World:
    """The world on a SQLite file in `directory`, or on the empty database at `url`."""
    url = url or f"sqlite:///{directory / 'web.db'}"
    engine = make_engine(url)
    upgrade(engine)
    clock = clock or Clock()
    app = create_app(Settings(database_url=url, secret_key=b"test secret", clock=clock,
                              clinic_name="North Clinic", clinic_phone="555 0100"), engine)
    world = World(app, engine, session_factory(engine), clock)
    hashed = hash_password(PASSWORD)
    with world.sessions() as db:
        north, south = create_clinic(db, "North Clinic"), create_clinic(db, "South Clinic")
        world.ids.update(north=north.id, south=south.id)
        for role in ROLES:
            clinics = [north.id] if role in ("clinician", "staff") else []
            world.ids[role] = create_user(db, role, hashed, role, clinics).id
        start_enrolment(db, world.ids["admin"], ADMIN_SECRET)
        confirm_enrolment(db, world.ids["admin"], 0, [])
        world.totp_secrets["admin"] = ADMIN_SECRET
        for role in ("clinician", "staff"):
            world.ids[f"south_{role}"] = create_user(db, f"south_{role}", hashed, role,
                                                     [south.id]).id
        patient = create_patient(db, north.id, {
            "given_name": "Ada", "family_name": "North", "birth_date": "1970-02-03",
            "sex": "female", "external_id": "N-1"}, world.ids["clinician"])
        episode = create_episode(db, patient.id, {
            "complaint": "Left buttock pain", "opened_on": TODAY.isoformat()},
            world.ids["clinician"])
        intake = add_record(db, episode.id, "intake", {"pain_nrs": 6, "side": "left"},
                            world.ids["clinician"], TODAY)
        world.ids.update(patient=patient.id, episode=episode.id, intake=intake.id)
        signed = sign_assessment(db, episode.id, assess_episode(db, episode.id, "medicare",
                                                                TODAY), world.ids["clinician"])
        world.ids["signed"] = signed.id
        db.commit()
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("web"))
    yield built
    built.engine.dispose()


@pytest.fixture(scope="module")
def clinician(world: World) -> TestClient:
    return world.signed_in("clinician")


@pytest.fixture(scope="module")
def staff(world: World) -> TestClient:
    return world.signed_in("staff")


@pytest.fixture(scope="module")
def clients(world: World) -> dict[str, TestClient]:
    """A signed-in client per user of the world, for access matrices."""
    return {user: world.signed_in(user) for user in (
        "clinician", "staff", "researcher", "admin", "south_clinician", "south_staff")}


@pytest.fixture(scope="module")
def world_client(world: World) -> TestClient:
    """A member of the public: no sign-in."""
    return world.client()

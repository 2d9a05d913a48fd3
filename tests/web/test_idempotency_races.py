"""`Idempotency-Key` under a race and over time, on SQLite and PostgreSQL: two requests with
the same key at the same moment make one record (the second answers the first's answer, or
409 naming the header), and keys older than a day are forgotten in bounded batches."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, insert, select

from sijcare.store.idempotency import KEEP, PURGE_BATCH
from sijcare.store.models import IdempotentRequest, Patient, utcnow
from tests.store.helpers import fresh_database
from tests.web.conftest import World, build_world
from tests.web.test_idempotency import PATIENT
from tests.web.test_security_errors import serving

RACES = 6


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("races")
    with fresh_database(request.param, directory) as url:
        built = build_world(directory, url=url)
        yield built
        built.engine.dispose()


def patients_named(world: World, family_name: str) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count()).select_from(Patient).where(
            Patient.family_name == family_name)) or 0


@pytest.fixture
def slow_registration(world: World) -> Iterator[None]:
    """Each new patient's INSERT waits a moment inside its transaction, so the twin request
    arrives while the first one holds its claim uncommitted."""
    def wait(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PATIENTS"):
            time.sleep(0.4)

    event.listen(world.engine, "before_cursor_execute", wait)
    yield
    event.remove(world.engine, "before_cursor_execute", wait)


def test_two_requests_with_one_key_at_once_make_one_patient(
        world: World, slow_registration: None) -> None:
    """Two connections of one signed-in user, to a real server, released together."""
    signed = world.signed_in("clinician")
    auth = {"cookies": dict(signed.cookies),
            "headers": {"x-csrf-token": signed.headers["x-csrf-token"]}}
    outcomes = []
    with serving(world.app) as port, ThreadPoolExecutor(2) as pool:
        for race in range(RACES):
            name, start = f"Race{race}", threading.Barrier(2)

            def send(_: int, name: str = name, race: int = race,
                     start: threading.Barrier = start) -> httpx.Response:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                  cookies=auth["cookies"]) as client:
                    start.wait()
                    return client.post("/api/v1/patients", json={**PATIENT, "family_name": name},
                                       headers={**auth["headers"],
                                                "Idempotency-Key": f"race-{race}"})

            answers = list(pool.map(send, range(2)))
            assert patients_named(world, name) == 1  # never two records for one key
            codes = sorted(a.status_code for a in answers)
            assert codes in ([201, 201], [201, 409]), [a.text for a in answers]
            if codes == [201, 201]:  # the later one answers the first's answer again
                assert answers[0].json() == answers[1].json()
                assert [a.headers.get("idempotent-replayed") for a in answers].count(
                    "true") == 1
                outcomes.append("replayed")
            else:
                [refused] = [a for a in answers if a.status_code == 409]
                assert "Idempotency-Key is still being carried out" in refused.json()["detail"]
                outcomes.append("409")
    # the same key sent again afterwards answers the first answer
    again = signed.post("/api/v1/patients", headers={"Idempotency-Key": "race-0"},
                        json={**PATIENT, "family_name": "Race0"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    print(f"{world.engine.dialect.name}: {outcomes}")


def age_keys(world: World, count: int, prefix: str, hours: float) -> None:
    """`count` answered keys of the clinician's, written `hours` ago."""
    created = utcnow() - dt.timedelta(hours=hours)
    with world.sessions() as db:
        db.execute(insert(IdempotentRequest), [
            {"actor_id": world.ids["clinician"], "key": f"{prefix}-{n}", "method": "POST",
             "path": "/api/v1/patients", "body_sha256": "0" * 64, "status": 201,
             "response": {"body": {}}, "created_at": created} for n in range(count)])
        db.commit()


def keys_like(world: World, prefix: str) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count()).select_from(IdempotentRequest).where(
            IdempotentRequest.key.like(f"{prefix}-%"))) or 0


def test_expired_keys_are_forgotten_a_batch_per_write(world: World) -> None:
    client = world.signed_in("clinician")
    hours = KEEP.total_seconds() / 3600
    age_keys(world, PURGE_BATCH + 50, "old", hours + 1)
    age_keys(world, 5, "young", hours - 1)
    for n in range(2):
        assert client.post("/api/v1/patients", headers={"Idempotency-Key": f"purge-{n}"},
                           json={**PATIENT, "family_name": f"Purge{n}"}).status_code == 201
        assert keys_like(world, "old") == max(0, 50 - n * PURGE_BATCH)
    assert keys_like(world, "young") == 5  # within the day: kept, still replayed


def test_an_expired_key_names_a_new_write(world: World) -> None:
    client = world.signed_in("clinician")
    key = {"Idempotency-Key": "yesterday"}
    assert client.post("/api/v1/patients", headers=key,
                       json={**PATIENT, "family_name": "Yesterday"}).status_code == 201
    with world.sessions() as db:
        db.execute(IdempotentRequest.__table__.update().where(
            IdempotentRequest.key == "yesterday").values(created_at=utcnow() - KEEP * 2))
        db.commit()
    today = client.post("/api/v1/patients", headers=key,
                        json={**PATIENT, "family_name": "Today"})
    assert today.status_code == 201 and "idempotent-replayed" not in today.headers
    assert patients_named(world, "Today") == 1


def test_the_header_says_how_long_keys_are_kept(world: World) -> None:
    paths = world.client().get("/api/openapi.json").json()["paths"]
    [header] = [p for p in paths["/api/v1/patients"]["post"]["parameters"]
                if p["name"] == "Idempotency-Key"]
    assert "kept 24 hours" in header["description"]

"""Issue 6, defects 1, 6 and 7: failures over a real connection, the OpenAPI document against
the server, and private database files."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sijcare.store import make_engine, upgrade
from sijcare.web import Settings, create_app
from tests.web.conftest import PASSWORD, World


@contextmanager
def serving(app: FastAPI) -> Iterator[int]:
    """`app` under a real uvicorn on a free loopback port (logging left to the root logger)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def broken_app(world: World, limit: int = 1024 * 1024) -> FastAPI:
    app = create_app(Settings(database_url="sqlite://", secret_key=b"test secret",
                              clock=world.clock, max_body_bytes=limit), world.engine)

    def broken() -> None:
        raise RuntimeError("secret detail")

    app.add_api_route("/api/v1/broken", broken)
    return app


def test_an_unexpected_error_keeps_the_connection_and_prints_no_traceback(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    with serving(broken_app(world)) as port, caplog.at_level(logging.INFO):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/v1/broken")
        failed = connection.getresponse()
        assert failed.status == 500
        assert json.loads(failed.read()) == {"detail": "Internal server error."}
        assert failed.getheader("connection") is None
        connection.request("GET", "/api/v1/health")  # the same keep-alive connection
        assert connection.getresponse().status == 200
        connection.close()
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in logged] == ["sijcare.web"]
    assert all(r.exc_info is None for r in caplog.records)
    assert "secret detail" not in caplog.text and "Traceback" not in caplog.text


def test_nan_from_an_anonymous_client_answers_422_and_the_connection_lives_on(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    with serving(broken_app(world)) as port, caplog.at_level(logging.INFO):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/v1/session")
        first = connection.getresponse()
        token = json.loads(first.read())["csrf_token"]
        cookie = first.getheader("set-cookie").split(";")[0]
        for body in (b'{"username": NaN, "password": "x"}', b'{"username": "\\ud800"}'):
            connection.request("POST", "/api/v1/session", body=body, headers={
                "content-type": "application/json", "x-csrf-token": token, "cookie": cookie})
            answer = connection.getresponse()
            assert answer.status == 422
            answer.read()
        connection.request("GET", "/api/v1/health")
        assert connection.getresponse().status == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_chunked_body_is_refused_before_it_ends(world: World) -> None:
    with serving(broken_app(world, limit=1000)) as port:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        raw.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(3):  # 3000 bytes, and the body never ends
            raw.sendall(b"3e8\r\n" + b"x" * 1000 + b"\r\n")
        answer = raw.recv(65536).decode("latin-1")
        raw.close()
    assert answer.startswith("HTTP/1.1 413")
    assert "connection: close" in answer.lower()


def test_options_and_405_name_every_method_of_a_path(clinician: TestClient,
                                                     world: World) -> None:
    path = f"/api/v1/patients/{world.ids['patient']}/episodes"
    options = clinician.options(path)
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, OPTIONS, POST"
    refused = clinician.put(path)
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, OPTIONS, POST"
    assert clinician.options("/api/v1/health").headers["allow"] == "GET, OPTIONS"
    assert clinician.options("/api/v1/nothing-here").status_code == 404


def test_the_openapi_document_lists_every_refusal(world: World) -> None:
    spec = world.client().get("/api/openapi.json").json()
    operations = [op for methods in spec["paths"].values() for op in methods.values()]
    assert len(operations) >= 15
    for op in operations:
        for code in ("400", "401", "403", "404", "413", "422"):
            assert "application/json" in op["responses"][code]["content"], (op, code)
    assessment = spec["paths"]["/api/v1/episodes/{episode_id}/assessment"]["get"]
    assert "409" in assessment["responses"]


def test_times_carry_their_zone_as_date_time_requires(clinician: TestClient,
                                                      world: World) -> None:
    patient = clinician.get(f"/api/v1/patients/{world.ids['patient']}").json()
    assert patient["created_at"].endswith("Z")
    episode = world.ids["episode"]
    read = clinician.get(f"/api/v1/episodes/{episode}/assessment")
    signed = clinician.post(f"/api/v1/episodes/{episode}/signatures", json={
        "seen": read.headers["etag"], "as_of": read.json()["as_of"]})
    assert signed.status_code == 201, signed.text
    assert signed.json()["signed_at"].endswith("Z")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_database_files_are_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "sijcare.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    with engine.connect() as connection:  # the WAL files exist while a connection is open
        connection.exec_driver_sql("SELECT 1")
        assert mode(database.parent) == 0o700
        for path in (database, database.with_name("sijcare.db-wal"),
                     database.with_name("sijcare.db-shm")):
            assert mode(path) == 0o600, path
    engine.dispose()


def test_a_database_file_left_readable_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600


def test_a_signed_in_session_survives_the_new_checks(world: World) -> None:
    """The strict JSON layer passes ordinary bodies through untouched."""
    client = world.signed_in("clinician", PASSWORD)
    assert client.get("/api/v1/session").json()["user"]["username"] == "clinician"

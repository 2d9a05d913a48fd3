"""Benchmark: latency of the episode page and of `POST /api/v1/assess` under concurrent load,
each beside its floor measured in the same run.

Run: .venv/bin/python benchmarks/web.py [--patients 10000] [--threads 8] [--requests 400]
     [--seconds 30] [--crowd 200] [--crowd-seconds 20]
     [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds a temp SQLite database with synthetic patients, serves it with uvicorn on 127.0.0.1
in a separate process (so the load generator does not share its GIL), signs in a clinician,
and fires each endpoint from one client (the cost of one request) and then from a pool of
httpx clients in threads (under load), bounded by a request count and a time budget.

The episode page's floor is the page's own data work done directly: a route that this
benchmark adds to the served app (never to the product) runs the same session, access check,
SQL reads (episode, patient, records, signatures) and audit insert, and answers "ok". The page
over that floor is the cost of the engine, the presenters and the template (target <= 2.0 at
p50 and p95). The course chart the page links (matplotlib, its own request) is timed twice: drawn
for the first time (for information) and viewed again, as a browser does with the ETag it was
given, over the episodes of a clinic's day (target <= 2.0 over the same data floor). The old
ratio to `GET /api/v1/health` is printed too. Only loopback traffic.

Then a crowd: `--crowd` clients (200), each on a keep-alive connection of its own like a
browser, ask for episode pages at once, again and again for `--crowd-seconds`, on SQLite and
on PostgreSQL (in a schema of its own at `--pg-url`, skipped when no server answers). Past
`SIJCARE_MAX_REQUESTS` at a time a request waits up to `SIJCARE_QUEUE_SECONDS` and then
answers 503; printed are the share of 503s, the pages served per second and the latency
percentiles of both kinds of answer. Any other status stops the run; a connection the
server closed without an answer is counted apart (`dropped`; each client then opens a new one,
as a browser retries). The test of the same crowd (tests/web/test_security_load.py) opens a
connection per request and must see 0 of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.responses import PlainTextResponse

from sijcare.model import load_case
from sijcare.store import load_episode_records
from sijcare.web.audit import Audited
from sijcare.web.auth.sessions import COOKIE
from sijcare.web.clinic.episodes import Reading, signatures
from sijcare.web.deps import DbSession

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "classic-sij.yaml"  # in the repo
PASSWORD = "benchmark password"


def prepare(url: str, patients: int) -> tuple[int, list[int]]:
    """Migrate, generate the patients, add a clinician of their clinic; return episode ids."""
    from sqlalchemy import select

    from sijcare.store import (
        Clinic,
        Episode,
        Patient,
        create_user,
        generate_synthetic,
        make_engine,
        session_factory,
        upgrade,
    )
    from sijcare.web.auth.passwords import hash_password

    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        started = time.perf_counter()
        generate_synthetic(db, patients, seed=7)
        clinic_id = db.scalar(select(Clinic.id).where(Clinic.demo.is_(True)))
        create_user(db, "bench", hash_password(PASSWORD), "clinician", [clinic_id])
        db.commit()
        episodes = list(db.scalars(select(Episode.id).join(Patient)
                                   .where(Patient.clinic_id == clinic_id)))
        print(f"generated {patients} synthetic patients in "
              f"{time.perf_counter() - started:.1f} s")
    engine.dispose()
    return clinic_id, episodes


FLOOR = "/bench/episodes/{episode_id}/data"


def floor_route(app: FastAPI) -> None:
    """The episode page's data work and nothing else: same dependencies (session, access,
    audit insert) and the same reads, then a two-byte answer instead of an assessment."""

    def episode_data(db: DbSession, episode: Reading, note: Audited) -> PlainTextResponse:
        records = load_episode_records(db, episode.id)
        records.timeline()
        signatures(db, episode.id)
        return PlainTextResponse("ok" if episode.patient else "")

    app.add_api_route(FLOOR, episode_data, methods=["GET"], name="bench.floor")
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the app's catch-alls


def serve(url: str, port: int) -> subprocess.Popen:
    """One uvicorn process, as `sijcare serve` runs it (settings from the environment: the
    pool, the request limit), plus the floor route."""
    code = ("import sys, uvicorn; sys.path.insert(0, sys.argv[3]); import web as bench; "
            "from sijcare.web import Settings, create_app; "
            "app = create_app(Settings.from_env(sys.argv[1])); "
            "bench.floor_route(app); "
            "uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')")
    env = {**os.environ, "SIJCARE_SECRET_KEY": "bench " * 8}
    return subprocess.Popen([sys.executable, "-c", code, url, str(port),
                             str(Path(__file__).resolve().parent)], env=env)


def started(url: str) -> tuple[subprocess.Popen, str]:
    """The server on a free port, once it answers; and its base URL."""
    port = free_port()
    server = serve(url, port)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base)
    return server, base


def wait_until_up(base: str) -> None:
    """Until the server at `base` answers its health check (at most about 30 s)."""
    for _ in range(600):
        try:
            if httpx.get(f"{base}/api/v1/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)


def stopped(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = client.get("/api/v1/session").json()["csrf_token"]
    answer = client.post("/api/v1/session", json={"username": "bench", "password": PASSWORD},
                         headers={"x-csrf-token": token})
    answer.raise_for_status()
    client.headers["x-csrf-token"] = answer.json()["csrf_token"]
    return client


def load(clients: list[httpx.Client], call, requests: int, seconds: float) -> list[float]:
    """Latencies (ms) of up to `requests` calls from len(clients) threads within `seconds`."""
    deadline = time.perf_counter() + seconds
    per_thread = -(-requests // len(clients))

    def run(client: httpx.Client) -> list[float]:
        times = []
        for _ in range(per_thread):
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            answer = call(client)
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code not in (200, 304):
                raise SystemExit(f"{answer.request.url}: HTTP {answer.status_code}")
        return times

    for client in clients:  # warm up each connection and the server's caches
        call(client)
    with ThreadPoolExecutor(len(clients)) as pool:
        return [t for times in pool.map(run, clients) for t in times]


CLINIC_DAY = 20  # the episodes a clinic's day comes back to, whose charts are viewed again


def chart_again(clients: list[httpx.Client], episodes: list[int], rng: random.Random):
    """A browser viewing the charts of a clinic's day again: each client has seen each chart
    once (untimed) and sends its ETag back (`If-None-Match`) as a browser does, so the answer
    is a 304 with no drawing."""
    seen: dict[tuple[int, int], str] = {}
    for client in clients:
        for episode in episodes:
            answer = client.get(f"/episodes/{episode}/course-chart.svg")
            seen[id(client), episode] = answer.headers["etag"]

    def call(client: httpx.Client) -> httpx.Response:
        episode = rng.choice(episodes)
        tag = seen.get((id(client), episode))
        answer = client.get(f"/episodes/{episode}/course-chart.svg",
                            headers={"if-none-match": tag} if tag else {})
        if "etag" in answer.headers:
            seen[id(client), episode] = answer.headers["etag"]
        return answer

    return call


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def crowd(base: str, cookie: str, episodes: list[int], clients: int,
                seconds: float) -> list[tuple[int, float]]:
    """(status, latency ms) of every answer while `clients` ask for pages at once, each on
    its own connection and again as soon as answered, until `seconds` have passed; status 0
    for a connection closed without an answer."""
    deadline = time.perf_counter() + seconds
    rng = random.Random(2)
    answers: list[tuple[int, float]] = []
    tls = ssl.create_default_context()  # made once: each client would load the CAs again

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, cookies={COOKIE: cookie}, verify=tls,
                                     limits=httpx.Limits(max_connections=1),
                                     timeout=seconds + 60) as http:
            while time.perf_counter() < deadline:
                begun = time.perf_counter()
                try:
                    answer = await http.get(f"/episodes/{rng.choice(episodes)}")
                except httpx.TransportError:
                    answers.append((0, (time.perf_counter() - begun) * 1000))
                    continue
                if answer.status_code not in (200, 503):
                    raise SystemExit(f"{answer.request.url}: HTTP {answer.status_code}")
                answers.append((answer.status_code, (time.perf_counter() - begun) * 1000))

    await asyncio.gather(*(client() for _ in range(clients)))
    return answers


def crowd_figures(name: str, answers: list[tuple[int, float]], seconds: float) -> dict:
    """The crowd's figures, printed and returned: 503 share, pages/s, latency percentiles."""
    served = [ms for status, ms in answers if status == 200]
    busy = [ms for status, ms in answers if status == 503]
    dropped = sum(1 for status, _ in answers if status == 0)
    entry: dict = {"n": len(answers), "share_503": round(len(busy) / len(answers), 3),
                   "pages_per_s": round(len(served) / seconds, 1), "dropped": dropped}
    line = (f"  {name:10} n={len(answers):5}  503 share {entry['share_503']:5.1%}  "
            f"{entry['pages_per_s']:5.1f} pages/s  dropped {dropped}")
    for kind, times in (("200", served), ("503", busy)):
        if len(times) >= 2:
            p50, p95, p99 = (percentile(times, p) for p in (50, 95, 99))
            entry[f"{kind}_ms"] = {"p50": round(p50), "p95": round(p95), "p99": round(p99)}
            line += f"  {kind}: p50 {p50:6.0f} p95 {p95:6.0f} p99 {p99:6.0f} ms"
    print(line)
    return entry


def postgres_schema(url: str) -> tuple[str, object] | None:
    """A URL into a new schema at `url` and the engine that drops it; None without a server."""
    from sqlalchemy import create_engine, make_url

    schema = f"sijcare_bench_{secrets.token_hex(4)}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except Exception as error:  # no server: say so and skip
        print(f"PostgreSQL: skipped ({error.__class__.__name__})")
        return None
    inside = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return inside.render_as_string(hide_password=False), (admin, schema)


def crowd_on(url: str, patients: int, clients: int, seconds: float) -> list[tuple[int, float]]:
    """A fresh database at `url` with `patients`, one server, `clients` at once."""
    _, episodes = prepare(url, patients)
    server, base = started(url)
    try:
        cookie = signed_in(base).cookies[COOKIE]
        return asyncio.run(crowd(base, cookie, episodes, clients, seconds))
    finally:
        stopped(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="per endpoint")
    parser.add_argument("--seconds", type=float, default=30, help="time budget per endpoint")
    parser.add_argument("--crowd", type=int, default=200, help="clients at once (0: skip)")
    parser.add_argument("--crowd-seconds", type=float, default=20)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{Path(workdir) / 'bench.db'}"
        _, episodes = prepare(url, args.patients)
        server, base = started(url)
        try:
            clients = [signed_in(base) for _ in range(args.threads)]
            case = load_case(EXAMPLE).model_dump_json(exclude_none=True)
            rng = random.Random(1)
            endpoints = {
                "GET /api/v1/health (floor)": lambda c: c.get("/api/v1/health"),
                "episode data (page floor)": lambda c: c.get(
                    FLOOR.format(episode_id=rng.choice(episodes))),
                "GET /episodes/{id} (page)": lambda c: c.get(f"/episodes/{rng.choice(episodes)}"),
                "GET .../course-chart.svg (first)": lambda c: c.get(
                    f"/episodes/{rng.choice(episodes)}/course-chart.svg"),
                "GET .../course-chart.svg (again)": chart_again(clients, episodes[:CLINIC_DAY],
                                                                rng),
                "POST /api/v1/assess": lambda c: c.post(
                    "/api/v1/assess", content=case,
                    headers={"content-type": "application/json"}),
            }
            results = {(threads, name): load(clients[:threads], call, args.requests,
                                             args.seconds)
                       for threads in (1, args.threads) for name, call in endpoints.items()}
        finally:
            stopped(server)
        crowds = {}
        if args.crowd:
            crowds["sqlite"] = crowd_on(f"sqlite:///{Path(workdir) / 'crowd.db'}",
                                        args.patients, args.crowd, args.crowd_seconds)
            if (postgres := postgres_schema(args.pg_url)) is not None:
                pg_url, (admin, schema) = postgres
                try:
                    crowds["postgresql"] = crowd_on(pg_url, args.patients, args.crowd,
                                                    args.crowd_seconds)
                finally:
                    with admin.begin() as connection:
                        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                    admin.dispose()

    print(f"{args.patients} patients; up to {args.requests} requests or {args.seconds:g} s "
          "per endpoint; one uvicorn process")
    summary = {}
    for (threads, name), times in results.items():
        p50, p95 = percentile(times, 50), percentile(times, 95)
        entry = summary[f"{name} x{threads}"] = {
            "n": len(times), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
        line = (f"  {threads:2} client(s)  {name:28} n={len(times):4}  p50 {p50:7.2f} ms  "
                f"p95 {p95:7.2f} ms")
        floors = {"health": results[threads, "GET /api/v1/health (floor)"]}
        if name.startswith("GET /episodes") or "chart" in name:
            floors = {"data": results[threads, "episode data (page floor)"], **floors}
        for floor_name, floor in floors.items():
            ratio50, ratio95 = p50 / percentile(floor, 50), p95 / percentile(floor, 95)
            entry[f"ratio_{floor_name}"] = {"p50": round(ratio50, 2), "p95": round(ratio95, 2)}
            line += f"  / {floor_name}: p50 {ratio50:5.2f} p95 {ratio95:5.2f}"
        target = ("  (target <= 2.0 over its data)"
                  if name.startswith("GET /episodes") or "(again)" in name else "")
        print(line + (target or ("  (a chart drawn for the first time; for information)"
                                 if "chart" in name else "")))
    if crowds:
        print(f"{args.crowd} clients at once for {args.crowd_seconds:g} s on the episode page "
              "(one process, default SIJCARE_MAX_REQUESTS and SIJCARE_QUEUE_SECONDS):")
        for backend, answers in crowds.items():
            summary[f"crowd x{args.crowd} {backend}"] = crowd_figures(backend, answers,
                                                                      args.crowd_seconds)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

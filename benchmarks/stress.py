"""The long proofs (issue 25, items 5, 6 and 11), run by `scripts/stress`: crash safety and load
on SQLite and PostgreSQL, with real `sijcare serve` processes on loopback only.

Crash safety, per database: a server process, WRITERS clients registering patients (each
write with its own `Idempotency-Key`), and KILLS SIGKILLs of the server at random moments.
After each kill the next server process takes over (started ahead, see `Standbys`) and a new
one starts; every write whose answer was lost is sent again with its key. At the end every
acknowledged write must be present and intact, no write may exist twice,
the database's integrity check must pass and the audit chain (and the seals) must verify.

Load, per database: CLIENTS clients for SECONDS, each in a loop, against the episode page,
`POST /api/v1/assess`, a FHIR read, a CDS Hooks `patient-view` call (everything prefetched,
a token signed for each call by an allow-listed issuer) and the floor (`GET /api/v1/health`)
in the same run; SQLite behind one server process, PostgreSQL behind PG_SERVERS processes.
Zero errors is the bar: any answer other than 200 counts as one.

Usage: scripts/stress [--kills 20] [--clients 200] [--seconds 60] [--pg-url URL] [--out FILE]
Bounded: at most KILLS restarts and SECONDS of load per database; about 8 minutes in all.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import ehr
import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from sijcare.interop.fhir.export import patient_resources
from sijcare.model import load_case
from sijcare.store import load_demo, make_engine, upgrade, verify_chain
from sijcare.store.integrity import check_integrity
from sijcare.store.models import Clinic, Episode, Patient
from sijcare.store.signing import seals_match_audit
from sijcare.store.users import create_user
from sijcare.web.auth.passwords import hash_password
from sijcare.web.auth.sessions import COOKIE
from sijcare.web.cds_hooks.prefetch import TEMPLATES

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "stress-test password 2026"
USER = "dr.stress"
WRITERS = 6
PG_SERVERS = 3
EXAMPLE = REPO / "examples" / "classic-sij.yaml"  # in the repo
HOOKS = "http://sijcare.stress"  # SIJCARE_PUBLIC_URL of the load servers: the hooks' `aud`


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "SIJCARE_DATA_DIR": str(data_dir),
            "SIJCARE_SECRET_KEY": "stress " + secrets.token_urlsafe(32),
            "SIJCARE_AUDIT_KEY": os.environ.get("SIJCARE_AUDIT_KEY") or secrets.token_urlsafe(32),
            "SIJCARE_QUEUE_SECONDS": "60"}


def launch(url: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sijcare.cli", "serve", "--port",
                                str(port), "--url", url], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


def ready(process: subprocess.Popen, base: str) -> tuple[subprocess.Popen, str]:
    """Wait until the server answers its health check (a minute at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with suppress(httpx.TransportError):
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                return process, base
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"a server at {base} did not start")


class Standbys:
    """Server processes started ahead, so a killed one's successor is ready at once: starting
    one takes many seconds (imports), and 20 restarts in turn would not fit the time box."""

    def __init__(self, url: str, env: dict[str, str], size: int = 2):
        self.url, self.env = url, env
        self.waiting = deque(launch(url, env) for _ in range(size))

    def take(self) -> tuple[subprocess.Popen, str]:
        taken = ready(*self.waiting.popleft())
        self.waiting.append(launch(self.url, self.env))
        return taken

    def stop(self) -> None:
        for process, _ in self.waiting:
            process.terminate()
            process.wait(30)


@contextmanager
def database(backend: str, pg_url: str, directory: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own (dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'stress.db'}"
        return
    schema = f"sijcare_stress_{secrets.token_hex(4)}"
    admin = create_engine(pg_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in pg_url else "?"
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def prepare(url: str, env: dict[str, str]) -> tuple[list[int], list[int]]:
    """Migrate, load the demo clinic and a clinician of it: its episodes and patients."""
    saved = dict(os.environ)
    os.environ.update(env)  # the same audit key as the servers
    try:
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as db:
            load_demo(db)
            clinic = db.scalar(select(Clinic.id).where(Clinic.demo.is_(True)))
            create_user(db, USER, hash_password(PASSWORD), "clinician", [clinic])
            db.commit()
            episodes = list(db.scalars(select(Episode.id).join(Patient)
                                       .where(Patient.clinic_id == clinic)))
            patients = list(db.scalars(select(Patient.id).where(Patient.clinic_id == clinic)))
        engine.dispose()
        return episodes, patients
    finally:
        os.environ.clear()
        os.environ.update(saved)


def sign_in(base: str) -> tuple[str, str]:
    """The session cookie and CSRF token of the clinician."""
    with httpx.Client(base_url=base, timeout=30) as sync:
        token = sync.get("/api/v1/session").json()["csrf_token"]
        answer = sync.post("/api/v1/session", headers={"x-csrf-token": token},
                           json={"username": USER, "password": PASSWORD})
        answer.raise_for_status()
        return sync.cookies[COOKIE], answer.json()["csrf_token"]


# -- crash safety ------------------------------------------------------------------------------


def crash(backend: str, url: str, env: dict[str, str], kills: int,
          budget: float) -> dict[str, object]:
    """`kills` SIGKILLs, or as many as `budget` seconds allow (the report says how many)."""
    clinic_patients = prepare(url, env)[1]
    assert clinic_patients
    acknowledged: dict[str, int] = {}  # family name -> patient id the server answered
    pending: dict[str, str] = {}  # family name -> idempotency key, answer not seen
    lock = threading.Lock()
    counter = iter(range(10**9))
    retried = replayed = 0
    started = time.monotonic()
    standbys = Standbys(url, env)
    # the session lives in the database: one sign-in serves every process to come
    cookie, token = sign_in(ready(*standbys.waiting[0])[1])
    headers = {"x-csrf-token": token}
    cookies = {COOKIE: cookie}
    for round_ in range(kills + 1):
        process, base = standbys.take()
        # first the writes whose answers the last kill swallowed, with the same key
        for name, key in list(pending.items()):
            answer = httpx.post(base + "/api/v1/patients", json=body_for(name),
                                headers={**headers, "Idempotency-Key": key}, cookies=cookies,
                                timeout=30)
            if answer.status_code != 201:
                raise SystemExit(f"a retried write answered {answer.status_code}: {answer.text}")
            retried += 1
            replayed += answer.headers.get("idempotent-replayed") == "true"
            acknowledged[name] = answer.json()["id"]
            del pending[name]
        if round_ == kills or time.monotonic() - started > budget:
            done = round_
            process.terminate()
            process.wait(30)
            standbys.stop()
            break
        stop = threading.Event()

        def write(worker: int, base: str = base, stop: threading.Event = stop,
                  cookies: dict[str, str] = cookies, headers: dict[str, str] = headers) -> None:
            with httpx.Client(base_url=base, cookies=cookies, headers=headers,
                              timeout=30) as client:
                while not stop.is_set():
                    name = f"Crash-{worker}-{next(counter)}"
                    key = secrets.token_hex(16)
                    with lock:
                        pending[name] = key
                    try:
                        answer = client.post("/api/v1/patients", json=body_for(name),
                                             headers={"Idempotency-Key": key})
                    except httpx.TransportError:
                        return  # killed mid-request: retried after the restart
                    if answer.status_code != 201:
                        raise SystemExit(f"a write answered {answer.status_code}")
                    with lock:
                        acknowledged[name] = answer.json()["id"]
                        del pending[name]

        threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        time.sleep(random.uniform(0.3, 2.5))  # a random moment
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        stop.set()
        for thread in threads:
            thread.join()
    checked = check(url, env, acknowledged)
    return {"backend": backend, "kills": done, **checked, "ok": checked["ok"] and done == kills,
            "retried": retried, "replayed": replayed,
            "seconds": round(time.monotonic() - started, 1)}


def body_for(name: str) -> dict[str, str]:
    return {"given_name": "Stress", "family_name": name, "sex": "other",
            "birth_date": "1970-01-01"}


def check(url: str, env: dict[str, str], acknowledged: dict[str, int]) -> dict[str, object]:
    """Every acknowledged write present, once and intact; integrity; the audit chain."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        engine = make_engine(url)
        with Session(engine) as db:
            stored = db.execute(select(Patient.id, Patient.family_name, Patient.given_name)
                                .where(Patient.family_name.like("Crash-%"))).all()
            by_name = defaultdict(list)
            for row in stored:
                by_name[row.family_name].append(row)
            lost = [n for n, pid in acknowledged.items()
                    if [r.id for r in by_name.get(n, [])] != [pid]]
            twice = [n for n, rows in by_name.items() if len(rows) > 1]
            damaged = [r.family_name for r in stored if r.given_name != "Stress"]
            chain = verify_chain(db)
            seals = seals_match_audit(db)
        whole = check_integrity(engine)  # what `sijcare db check` runs (amcheck on PostgreSQL)
        integrity = (("ok" if whole.amcheck or engine.dialect.name == "sqlite"
                      else "ok (indexes not verified: no amcheck)")
                     if whole.ok else "; ".join(whole.problems[:3]))
        engine.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {"acknowledged": len(acknowledged), "stored": len(stored), "lost": len(lost),
            "duplicated": len(twice), "damaged": len(damaged), "integrity": integrity,
            "audit_entries": chain.entries, "audit_ok": chain.ok and not seals,
            "ok": not (lost or twice or damaged) and whole.ok and chain.ok
            and not seals}


# -- load --------------------------------------------------------------------------------------

Target = tuple[str, Callable[[httpx.AsyncClient, random.Random], object]]


def hook_call(url: str, episode_id: int, key: object) -> Callable[..., object]:
    """`patient-view` for the episode's patient, everything prefetched, as an EHR calls it."""
    engine = make_engine(url)
    with Session(engine) as db:
        episode = db.get(Episode, episode_id)
        resources = patient_resources(db, episode.patient_id, episode_id=episode.id)
        patient = str(episode.patient_id)
    engine.dispose()
    body = {"hook": "patient-view", "prefetch": ehr.prefetch_of(resources, TEMPLATES),
            "context": {"patientId": patient, "userId": "Practitioner/stress"}}
    path = "/cds-services/sijcare-patient-view"
    return lambda c, r: c.post(path, json={**body, "hookInstance": str(uuid.uuid4())},
                               headers={"authorization": f"Bearer {ehr.token(key, HOOKS + path)}"})


def targets(episodes: list[int], patients: list[int], hook: Callable[..., object]
            ) -> list[Target]:
    """What the clients ask for, in turn."""
    case = load_case(EXAMPLE).model_dump_json(exclude_none=True)
    return [
        ("CDS Hooks patient-view", hook),
        ("episode page", lambda c, r: c.get(f"/episodes/{r.choice(episodes)}")),
        ("POST /api/v1/assess", lambda c, r: c.post(
            "/api/v1/assess", content=case, headers={"content-type": "application/json"})),
        ("FHIR Patient read", lambda c, r: c.get(f"/fhir/Patient/{r.choice(patients)}",
                                                 headers={"accept": "application/fhir+json"})),
        ("floor: /api/v1/health", lambda c, r: c.get("/api/v1/health")),
    ]


async def crowd(bases: list[str], sessions: list[tuple[str, str]], chosen: list[Target],
                clients: int, seconds: float) -> dict[str, list[tuple[int, float]]]:
    results: dict[str, list[tuple[int, float]]] = defaultdict(list)
    deadline = time.monotonic() + seconds

    async def client(n: int) -> None:
        cookie, token = sessions[n % len(bases)]
        draw = random.Random(n)
        async with httpx.AsyncClient(base_url=bases[n % len(bases)], cookies={COOKIE: cookie},
                                     headers={"x-csrf-token": token}, timeout=120) as http:
            turn = n
            while time.monotonic() < deadline:
                name, call = chosen[turn % len(chosen)]
                turn += 1
                began = time.perf_counter()
                try:
                    answer = await call(http, draw)  # type: ignore[misc]
                    status = answer.status_code
                except httpx.TransportError:
                    status = 0
                results[name].append((status, time.perf_counter() - began))

    await asyncio.gather(*(client(n) for n in range(clients)))
    return results


def load(backend: str, url: str, env: dict[str, str], servers: int, clients: int,
         seconds: float) -> dict[str, object]:
    episodes, patients = prepare(url, env)
    key, issuers = ehr.issuer(Path(env["SIJCARE_DATA_DIR"]).parent)
    env = {**env, "SIJCARE_CDS_ISSUERS": str(issuers), "SIJCARE_PUBLIC_URL": HOOKS}
    hook = hook_call(url, episodes[0], key)
    launched = [launch(url, env) for _ in range(servers)]  # side by side, then wait
    started = [ready(*server) for server in launched]
    try:
        bases = [base for _, base in started]
        sessions = [sign_in(base) for base in bases]
        chosen = targets(episodes, patients, hook)
        results = asyncio.run(crowd(bases, sessions, chosen, clients, seconds))
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(30)
    rows = {}
    for name, answers in ((name, results[name]) for name, _ in chosen):
        times = sorted(t for _, t in answers)
        errors = sum(status != 200 for status, _ in answers)
        rows[name] = {"requests": len(answers), "errors": errors,
                      "p50_ms": round(1000 * statistics.median(times), 1),
                      "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 1),
                      "per_second": round(len(answers) / seconds, 1)}
    return {"backend": backend, "servers": servers, "clients": clients, "seconds": seconds,
            "targets": rows, "ok": all(r["errors"] == 0 for r in rows.values())}


# -- report ------------------------------------------------------------------------------------


def report(crashes: list[dict], loads: list[dict], out: Path | None) -> str:
    lines = [f"# Stress results ({dt.date.today().isoformat()}, `scripts/stress`)", "",
             "Real `sijcare serve` processes on 127.0.0.1; machine: "
             f"{os.cpu_count()} cores, Python {sys.version.split()[0]}.", "",
             "## Crash safety (SIGKILL at random moments)", "",
             "| database | kills | acknowledged writes | lost | duplicated | damaged | "
             "retried after a kill (replayed) | integrity | audit chain | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for c in crashes:
        lines.append(f"| {c['backend']} | {c['kills']} | {c['acknowledged']} | {c['lost']} | "
                     f"{c['duplicated']} | {c['damaged']} | {c['retried']} "
                     f"({c['replayed']}) | {c['integrity']} | "
                     f"{'verifies' if c['audit_ok'] else 'BROKEN'} "
                     f"({c['audit_entries']} entries) | {c['seconds']} |")
    lines += ["", "## Load", "",
              "| database | server processes | clients | target | requests | errors | "
              "p50 ms | p95 ms | requests/s |", "|---|---|---|---|---|---|---|---|---|"]
    for run in loads:
        for name, r in run["targets"].items():
            lines.append(f"| {run['backend']} | {run['servers']} | {run['clients']} | {name} | "
                         f"{r['requests']} | {r['errors']} | {r['p50_ms']} | {r['p95_ms']} | "
                         f"{r['per_second']} |")
    lines += ["", f"Each load run lasted {loads[0]['seconds'] if loads else 0} s; every "
              "client asks for the targets in turn, so their rates are alike and the floor's "
              "latency is measured under the same load.", ""]
    text_ = "\n".join(lines)
    if out:
        out.write_text(text_)
    return text_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pg-url", default=os.environ.get(
        "SIJCARE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--out", type=Path, default=None)
    options = parser.parse_args()
    if not 1 <= options.kills <= 50 or not 1 <= options.seconds <= 120:
        parser.error("--kills 1-50 and --seconds 1-120 keep the run under 15 minutes")
    backends = ["sqlite"]
    with socket.socket() as probe:
        probe.settimeout(2)
        if probe.connect_ex(("127.0.0.1", 5432)) == 0:
            backends.append("postgresql")
        else:
            print("!!! NO PostgreSQL on 127.0.0.1:5432: its half is SKIPPED !!!")
    crashes, loads = [], []
    with tempfile.TemporaryDirectory() as work:
        for backend in backends:
            for phase in ("crash", "load"):
                directory = Path(work) / f"{backend}-{phase}"
                directory.mkdir()
                env = server_env(directory / "data")
                with database(backend, options.pg_url, directory) as url:
                    print(f">>> {phase} on {backend}", flush=True)
                    if phase == "crash":  # the time box: 5 minutes of kills per database
                        crashes.append(crash(backend, url, env, options.kills, 300))
                    else:
                        servers = PG_SERVERS if backend == "postgresql" else 1
                        loads.append(load(backend, url, env, servers, options.clients,
                                          options.seconds))
    print(report(crashes, loads, options.out))
    if not all(run["ok"] for run in [*crashes, *loads]):
        print("!!! STRESS FAILED: see the tables above !!!")
        sys.exit(1)


if __name__ == "__main__":
    main()

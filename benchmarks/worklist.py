"""Benchmark: building the clinic worklist with 10,000 patients, beside one hand-written SQL
query returning the same rows, on SQLite and (when a server is named) PostgreSQL.

Run: .venv/bin/python benchmarks/worklist.py [--patients 10000] [--runs 30]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]   (default: SIJCARE_TEST_PG_URL)

Generates synthetic patients (`generate_synthetic`), derives the schedule of every episode
with a procedure once (`refresh_schedule`, reported as its own figure: it is paid on writes,
not on reads), then times `store.follow_up.worklist` (the query plus building the row
objects the page renders) against the same rows from one hand-written SQL statement read
with the bare DB-API cursor. Checks that both return the same rows, and prints the medians
and their ratio (target <= 2.0). PostgreSQL runs in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HAND_WRITTEN = """
SELECT p.id, p.episode_id, pt.id, pt.family_name, pt.given_name, p.point, p.procedure_kind,
       p.procedure_date, p.due, p.window_from, p.window_to, u.username,
       CASE WHEN p.window_from > :today THEN 'upcoming'
            WHEN p.window_to >= :today THEN 'due' ELSE 'missed' END
FROM follow_up_points p
JOIN episodes e ON e.id = p.episode_id
JOIN patients pt ON pt.id = e.patient_id
LEFT JOIN users u ON u.id = p.clinician_id
WHERE p.clinic_id = :clinic AND NOT p.done AND p.window_from <= :horizon
ORDER BY p.due, pt.family_name, p.id
"""


def _median(work: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(url: str, patients: int, runs: int) -> dict[str, float]:
    from sqlalchemy import select, text

    from sijcare.store import (
        Clinic,
        ProcedureRecord,
        generate_synthetic,
        make_engine,
        session_factory,
        upgrade,
        worklist,
    )
    from sijcare.store.follow_up import UPCOMING_DAYS, refresh_schedule

    engine = make_engine(url)
    upgrade(engine)
    today = dt.date.today()
    sessions = session_factory(engine)
    with sessions() as db:
        generate_synthetic(db, patients, seed=11, today=today)
        db.commit()
        clinic_id = db.scalar(select(Clinic.id).where(Clinic.demo.is_(True)))
        # without procedures the engine schedules nothing: only these episodes have points
        episode_ids = list(db.scalars(select(ProcedureRecord.episode_id).distinct()))
        started = time.perf_counter()
        for episode_id in episode_ids:
            refresh_schedule(db, episode_id, today)
        db.commit()
        derive = (time.perf_counter() - started) / len(episode_ids)

    params = {"today": today, "clinic": clinic_id,
              "horizon": today + dt.timedelta(days=UPCOMING_DAYS)}
    if engine.dialect.name == "sqlite":  # the DB-API sees dates as ISO text there
        params = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items()}
    compiled = text(HAND_WRITTEN).bindparams(**params).compile(
        engine, compile_kwargs={"literal_binds": True})
    raw_sql = str(compiled)

    with sessions() as db:
        built, items = _median(lambda: worklist(db, [clinic_id], today), runs)
        cursor = db.connection().connection.cursor()

        def hand() -> list[tuple[Any, ...]]:
            cursor.execute(raw_sql)
            return cursor.fetchall()

        baseline, raw = _median(hand, runs)
    as_rows = [tuple(str(v) for v in item) for item in items]
    assert as_rows == [tuple(str(v) for v in row) for row in raw], "rows differ"
    engine.dispose()
    return {"rows": len(items), "derive_ms": derive * 1000, "worklist_ms": built * 1000,
            "sql_ms": baseline * 1000, "ratio": built / baseline}


def _pg_schema(base: str) -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, make_url

    schema = f"sijcare_bench_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg", default=os.environ.get("SIJCARE_TEST_PG_URL", ""))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        results["SQLite"] = measure(f"sqlite:///{Path(directory) / 'bench.db'}",
                                    args.patients, args.runs)
    if args.pg:
        url, drop = _pg_schema(args.pg)
        try:
            results["PostgreSQL"] = measure(url, args.patients, args.runs)
        finally:
            drop()
    else:
        print("!!! no PostgreSQL URL (--pg or SIJCARE_TEST_PG_URL): PostgreSQL NOT measured")
    print(f"worklist of one clinic with {args.patients} patients, median of {args.runs} runs")
    for backend, r in results.items():
        print(f"{backend:>10}: {r['rows']} rows; worklist {r['worklist_ms']:.1f} ms, "
              f"hand-written SQL {r['sql_ms']:.1f} ms, ratio {r['ratio']:.2f} (target <= 2.0); "
              f"schedule derivation {r['derive_ms']:.2f} ms per episode (on write)")


if __name__ == "__main__":
    main()

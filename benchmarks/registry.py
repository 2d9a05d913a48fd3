"""Benchmark: the registry's analytics beside one hand-written query for the same table.

Run: .venv/bin/python benchmarks/registry.py [--episodes 1000000] [--pg-episodes 100000]
     [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--dir DIR]
     [--memory-limit 1.2GB]

1. DuckDB over Parquet: draws `--episodes` synthetic episodes with `draw_episodes` (the same
   drawing `sijcare demo-data` stores) straight into the research export's layout, then, in a
   fresh process so its memory is its own, times `registry_figures` (the responder table and
   the Kaplan-Meier durability, built with SQLAlchemy Core) against one hand-written DuckDB
   query that computes the same responder table, checks both give the same counts, and prints
   the time ratio (target <= 2.0) and the process's peak memory (target < 2 GB).
2. PostgreSQL: stores `--pg-episodes` with `store_cohort` in a schema of its own, and times
   `registry_figures` against one hand-written SQL query for the same responder table
   (target <= 2.0). Skipped without a server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sijcare.analytics.cohort import draw_episodes
from sijcare.analytics.cohort_stages import drawn_stage
from sijcare.analytics.export import TABLES
from sijcare.analytics.knowledge import load_registry
from sijcare.knowledge import load_knowledge

TODAY = dt.date(2026, 11, 1)
CHUNK = 50_000
COUNTS = ("due", "answered", "relief_judged", "relief_50", "nrs_pairs", "nrs_mcid",
          "odi_pairs", "odi_mcid", "pgic_answers", "pgic")


# -- the data -----------------------------------------------------------------------------------


def write_parquet(directory: Path, episodes: int, seed: int) -> dict[str, int]:
    """The drawn episodes as the export's tables (integer ids, dates as drawn)."""
    counts = dict.fromkeys(TABLES, 0)
    ids = dict.fromkeys(TABLES, 0)
    draws = draw_episodes(episodes, seed=seed, today=TODAY)
    for part in range(0, episodes, CHUNK):
        rows: dict[str, dict[str, list]] = {name: {} for name in TABLES}

        def put(name: str, rows: dict[str, dict[str, list]] = rows, **values) -> int:
            ids[name] += 1
            for column, value in {"id": ids[name], **values}.items():
                rows[name].setdefault(column, []).append(value)
            return ids[name]

        for _ in range(min(CHUNK, episodes - part)):
            d = next(draws)
            patient = put("patients", clinic_id=1, sex=d.sex, age_group="", synthetic=True)
            episode = put("episodes", patient_id=patient, opened_on=d.opened_on,
                          closed_on=None)
            procedures: list[int] = []
            stage = drawn_stage(d.records)
            for kind, data, _day in d.records:
                if kind == "procedure":
                    procedures.append(put(
                        "procedures", episode_id=episode, date=data["date"], kind=data["kind"],
                        side=data["side"], guidance=data["guidance"],
                        recorded_by=1 + d.clinician, stage_at_treatment=stage))
                elif kind == "procedure_outcome":
                    put("procedure_outcomes", procedure_id=procedures[data["procedure"]],
                        date=data["date"], relief_percent=float(data["relief_percent"]),
                        pgic=data["pgic"])
                elif kind == "prom":
                    prom = put("proms", episode_id=episode, date=data["date"],
                               instrument=data["instrument"], value=data.get("value"))
                    for section, answer in enumerate(data.get("answers") or [], start=1):
                        rows["prom_answers"].setdefault("prom_id", []).append(prom)
                        rows["prom_answers"].setdefault("section", []).append(section)
                        rows["prom_answers"].setdefault("answer", []).append(answer)
        for name, columns in rows.items():
            if name == "proms":
                columns["value"] = pa.array(columns["value"], pa.float64())
            target = directory / "parquet" / name / "clinic=bench" / "year=0"
            target.mkdir(parents=True, exist_ok=True)
            table = pa.table(columns)
            pq.write_table(table, target / f"part-{part // CHUNK}.parquet")
            counts[name] += table.num_rows
    return counts


# -- the hand-written queries ---------------------------------------------------------------------


def _points_sql() -> str:
    return " UNION ALL ".join(
        f"SELECT '{p.id}' AS point, {p.days} AS target, {p.days - p.before} AS low, "
        f"{p.days + p.after} AS high" for p in load_registry().points)


def hand_sql(as_of: dt.date, dialect: str) -> str:
    """The responder table in one query, written by hand for `dialect` (duckdb|postgresql)."""
    k, r = load_knowledge().outcomes, load_registry()
    voided = "" if dialect == "duckdb" else " AND voided_on IS NULL"
    nearest = ("QUALIFY row_number() OVER (PARTITION BY f.proc_id, pt.point, f.instrument "
               "ORDER BY abs(f.days - pt.target), f.days, f.value) = 1"
               if dialect == "duckdb" else "")
    ranked_open, ranked_close = ("", "") if dialect == "duckdb" else (
        "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY proc_id, point, instrument "
        "ORDER BY abs(days - target), days, value) AS rn FROM (", ") x) y WHERE rn = 1")
    return f"""
WITH procs AS (
  SELECT id, episode_id, date, kind,
         lead(date) OVER (PARTITION BY episode_id ORDER BY date, kind) AS next_date
  FROM procedures WHERE TRUE{voided}),
odi AS (
  SELECT m.episode_id, m.date, 100.0 * sum(a.answer) / (5 * count(a.answer)) AS value
  FROM proms m JOIN prom_answers a ON a.prom_id = m.id
  WHERE m.instrument = 'odi'{voided.replace('voided_on', 'm.voided_on')}
  GROUP BY m.id, m.episode_id, m.date HAVING count(a.answer) >= {k.odi.min_answered}),
scores AS (
  SELECT episode_id, date, instrument, CAST(value AS DOUBLE PRECISION) AS value FROM proms
  WHERE instrument IN ('nrs', 'pgic') AND value IS NOT NULL{voided}
  UNION ALL SELECT episode_id, date, 'odi', value FROM odi),
base AS (
  SELECT proc_id, max(CASE WHEN instrument = 'nrs' THEN value END) AS nrs,
         max(CASE WHEN instrument = 'odi' THEN value END) AS odi FROM (
    SELECT p.id AS proc_id, s.instrument, s.value, row_number() OVER (
      PARTITION BY p.id, s.instrument ORDER BY s.date DESC, s.value DESC) AS rn
    FROM procs p JOIN scores s ON s.episode_id = p.episode_id
    WHERE s.instrument IN ('nrs', 'odi') AND s.date <= p.date
      AND s.date >= p.date - {r.baseline_days}) b WHERE rn = 1 GROUP BY proc_id),
fu AS (
  SELECT p.id AS proc_id, s.instrument, s.value, (s.date - p.date) AS days
  FROM procs p JOIN scores s ON s.episode_id = p.episode_id
  WHERE s.date > p.date AND (p.next_date IS NULL OR s.date < p.next_date)
  UNION ALL SELECT p.id, 'relief', o.relief_percent, (o.date - p.date)
  FROM procs p JOIN procedure_outcomes o ON o.procedure_id = p.id
  WHERE o.relief_percent IS NOT NULL AND o.date > p.date{voided.replace('voided_on', 'o.voided_on')}
  UNION ALL SELECT p.id, 'pgic', o.pgic, (o.date - p.date)
  FROM procs p JOIN procedure_outcomes o ON o.procedure_id = p.id
  WHERE o.pgic IS NOT NULL AND o.date > p.date{voided.replace('voided_on', 'o.voided_on')}),
pts AS ({_points_sql()}),
near AS (
  SELECT proc_id, point, max(CASE WHEN instrument = 'nrs' THEN value END) AS nrs,
         max(CASE WHEN instrument = 'odi' THEN value END) AS odi,
         max(CASE WHEN instrument = 'relief' THEN value END) AS relief,
         max(CASE WHEN instrument = 'pgic' THEN value END) AS pgic FROM (
    {ranked_open}SELECT f.proc_id, pt.point, pt.target, f.instrument, f.value, f.days
    FROM fu f JOIN pts pt ON f.days BETWEEN pt.low AND pt.high {nearest}{ranked_close}
  ) n GROUP BY proc_id, point),
pair AS (
  SELECT p.kind, pt.point, n.proc_id AS answered, b.nrs AS nb, n.nrs AS nf, b.odi AS ob,
         n.odi AS of_, n.pgic, n.relief
  FROM procs p JOIN pts pt ON (DATE '{as_of}' - p.date) > pt.high
  LEFT JOIN near n ON n.proc_id = p.id AND n.point = pt.point
  LEFT JOIN base b ON b.proc_id = p.id)
SELECT kind, point, count(*) AS due, count(answered) AS answered,
  count(*) FILTER (WHERE relief IS NOT NULL OR (nb > 0 AND nf IS NOT NULL)) AS relief_judged,
  count(*) FILTER (WHERE CASE WHEN relief IS NOT NULL THEN relief >= 50
                   ELSE nb > 0 AND nf IS NOT NULL AND (nb - nf) * 100 >= 50 * nb END)
    AS relief_50,
  count(*) FILTER (WHERE nb > 0 AND nf IS NOT NULL) AS nrs_pairs,
  count(*) FILTER (WHERE nb > 0 AND nf IS NOT NULL AND (nb - nf >= {k.nrs.mcid.points}
                   OR (nb - nf) * 100 >= {k.nrs.mcid.percent} * nb)) AS nrs_mcid,
  count(*) FILTER (WHERE ob > 0 AND of_ IS NOT NULL) AS odi_pairs,
  count(*) FILTER (WHERE ob > 0 AND of_ IS NOT NULL AND (ob - of_ >= {k.odi.mcid.points}
                   OR (ob - of_) * 100 >= {k.odi.mcid.percent} * ob)) AS odi_mcid,
  count(pgic) AS pgic_answers,
  count(*) FILTER (WHERE pgic <= {k.pgic.responder_at_most}) AS pgic
FROM pair GROUP BY kind, point ORDER BY kind, point"""


def _table(rows) -> dict[tuple[str, str], tuple[int, ...]]:
    return {(row[0], row[1]): tuple(int(v) for v in row[2:]) for row in rows}


def _ours(figures) -> dict[tuple[str, str], tuple[int, ...]]:
    from sijcare.analytics.registry import DEFINITIONS

    table = {}
    for kind, treatment in figures.treatments.items():
        for p in treatment.points:
            judged = {d: p.responders[d] for d in DEFINITIONS}
            table[kind, p.point] = (
                p.due, p.answered.count, judged["relief_50"].total, judged["relief_50"].count,
                p.nrs_change.n, judged["nrs_mcid"].count, judged["odi_mcid"].total,
                judged["odi_mcid"].count, judged["pgic"].total, judged["pgic"].count)
    return table


def in_turns(repeat: int, ours, hand) -> tuple[float, object, float, object]:
    """Best time and result of each, run in turns (ours, hand, ours, ...) so that a warmer
    cache or a busier moment favours neither."""
    best, results = [float("inf"), float("inf")], [None, None]
    for _ in range(repeat):
        for i, run in enumerate((ours, hand)):
            start = time.perf_counter()
            results[i] = run()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], results[0], best[1], results[1]


# -- the two comparisons --------------------------------------------------------------------------


def analyse_duckdb(directory: Path, repeat: int, memory_limit: str) -> dict:
    """Runs in its own process: times both, checks they agree, reports the peak memory.

    DuckDB is held to `memory_limit` and spills the rest beside the Parquet files."""
    from sqlalchemy import text

    from sijcare.analytics.registry import registry_figures
    from sijcare.analytics.research import research_connection
    from sijcare.analytics.tables import export_tables

    with research_connection(directory, memory_limit=memory_limit,
                             spill_to=directory / "spill") as connection:
        ours_time, figures, hand_time, rows = in_turns(
            repeat, lambda: registry_figures(connection, export_tables(), as_of=TODAY),
            lambda: connection.execute(text(hand_sql(TODAY, "duckdb"))).all())
    same = _ours(figures) == _table(rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"ours": ours_time, "hand": hand_time, "same": same, "peak_bytes": peak,
            "kinds": len(figures.treatments)}


def compare_postgres(url: str, episodes: int, repeat: int) -> dict | None:
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.orm import Session

    from sijcare.analytics.cohort import store_cohort
    from sijcare.analytics.registry import registry_figures
    from sijcare.analytics.tables import database_tables
    from sijcare.store import make_engine, upgrade

    schema = f"sijcare_bench_{secrets.token_hex(4)}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except Exception as error:  # no server: say so and skip
        print(f"PostgreSQL: skipped ({error.__class__.__name__})")
        return None
    try:
        engine = make_engine(make_url(url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False))
        upgrade(engine)
        start = time.perf_counter()
        with Session(engine) as session:
            store_cohort(session, episodes, seed=1, today=TODAY)
            session.commit()
        stored = time.perf_counter() - start
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            ours_time, figures, hand_time, rows = in_turns(
                repeat, lambda: registry_figures(connection, database_tables(), as_of=TODAY),
                lambda: connection.execute(text(hand_sql(TODAY, "postgresql"))).all())
        engine.dispose()
        return {"ours": ours_time, "hand": hand_time, "same": _ours(figures) == _table(rows),
                "stored_seconds": stored}
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1_000_000)
    parser.add_argument("--pg-episodes", type=int, default=100_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, help="keep the Parquet files here")
    parser.add_argument("--memory-limit", default="1.2GB",
                        help="DuckDB's memory limit (the peak target is 2 GB for the process)")
    parser.add_argument("--analyse", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.analyse:
        print(json.dumps(analyse_duckdb(args.analyse, args.repeat, args.memory_limit)))
        return

    with tempfile.TemporaryDirectory() as scratch:
        directory = args.dir or Path(scratch)
        start = time.perf_counter()
        counts = write_parquet(directory, args.episodes, args.seed)
        print(f"drew {counts['episodes']:,} episodes, {counts['procedures']:,} procedures, "
              f"{counts['proms']:,} PROM answers ({counts['prom_answers']:,} ODI items) "
              f"in {time.perf_counter() - start:.0f} s")
        child = subprocess.run([sys.executable, __file__, "--analyse", str(directory),
                                "--repeat", str(args.repeat), "--memory-limit",
                                args.memory_limit], capture_output=True, text=True, check=True)
        duck = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"DuckDB over Parquet: registry_figures {duck['ours']:.2f} s (responders + KM), "
          f"hand-written responder query {duck['hand']:.2f} s, ratio "
          f"{duck['ours'] / duck['hand']:.2f} (target <= 2.0); same table: {duck['same']}; "
          f"peak memory {duck['peak_bytes'] / 2**30:.2f} GB (target < 2)")
    if args.pg_episodes:
        pg = compare_postgres(args.pg_url, args.pg_episodes, args.repeat)
        if pg:
            print(f"PostgreSQL at {args.pg_episodes:,} episodes (stored in "
                  f"{pg['stored_seconds']:.0f} s): registry_figures {pg['ours']:.2f} s, "
                  f"hand-written {pg['hand']:.2f} s, ratio {pg['ours'] / pg['hand']:.2f} "
                  f"(target <= 2.0); same table: {pg['same']}")


if __name__ == "__main__":
    main()

"""Benchmark: the FHIR Bulk Data export (NDJSON) of N synthetic episodes, beside a raw query of
the same rows plus `json.dumps` of each.

Run: .venv/bin/python benchmarks/interop.py [--episodes 10000]
Prints both times and the ratio raw / export (target >= 0.5: the export costs at most twice
reading and dumping the rows it maps). Then the import: the export of the first
`--import-episodes` episodes read back into an empty database, beside `json.loads` of the same
lines plus one bulk insert of a row per resource (target >= 0.5).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from sijcare.interop.fhir.export import bulk_export
from sijcare.interop.fhir.importing import import_fhir
from sijcare.store import generate_synthetic, make_engine, upgrade
from sijcare.store.kinds import KINDS
from sijcare.store.users import create_clinic, create_user

CHILDREN = ("exam_provocations", "block_diary", "prom_answers")


def raw(session: Session) -> int:
    """Every row the export reads, dumped as JSON, with the same bare reading an export could
    do by hand: one SELECT per table."""
    tables = ["patients", "clinics", "episodes", "none_records", "signed_assessments",
              *(spec.row.__tablename__ for spec in KINDS.values()), *CHILDREN]
    written = 0
    for table in tables:
        result = session.execute(text(f"SELECT * FROM {table}"))
        keys = list(result.keys())
        for row in result:
            written += len(json.dumps(dict(zip(keys, row, strict=True)), default=str))
    return written


def raw_import(directory: Path, target: str) -> int:
    """`json.loads` of every line and one bulk INSERT of a row per resource."""
    engine = make_engine(target)
    rows = [{"kind": path.stem, "body": line} for path in sorted(directory.glob("*.ndjson"))
            for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line)]
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE raw_resources (kind TEXT, body TEXT)"))
        connection.execute(text("INSERT INTO raw_resources VALUES (:kind, :body)"), rows)
    engine.dispose()
    return len(rows)


def timed_import(directory: Path, target: str) -> float:
    engine = make_engine(target)
    upgrade(engine)
    with Session(engine) as session:
        clinic = create_clinic(session, "Benchmark clinic")
        user = create_user(session, "importer", "!", "clinician", [clinic.id])
        session.commit()
        started = time.perf_counter()
        import_fhir(session, sorted(directory.glob("*.ndjson")), clinic.id, user.id)
        seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def import_half(directory: Path, episodes: int) -> None:
    engine = make_engine(f"sqlite:///{directory / 'small.db'}")
    upgrade(engine)
    with Session(engine) as session:
        generate_synthetic(session, episodes, seed=1)
        session.commit()
        bulk_export(session, directory / "small")
    engine.dispose()
    started = time.perf_counter()
    resources = raw_import(directory / "small", f"sqlite:///{directory / 'raw.db'}")
    raw_seconds = time.perf_counter() - started
    import_seconds = timed_import(directory / "small", f"sqlite:///{directory / 'import.db'}")
    print(f"import of {episodes} episodes, {resources} resources")
    print(f"json.loads + bulk insert: {raw_seconds:.2f} s")
    print(f"FHIR import:              {import_seconds:.2f} s "
          f"({resources / import_seconds:.0f} resources/s)")
    print(f"ratio raw / import:       {raw_seconds / import_seconds:.2f} (target >= 0.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--import-episodes", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        upgrade(engine)
        with Session(engine) as session:
            generate_synthetic(session, args.episodes, seed=1)
            session.commit()
        with Session(engine) as session:
            started = time.perf_counter()
            raw(session)
            raw_seconds = time.perf_counter() - started
        with Session(engine) as session:
            started = time.perf_counter()
            counts = bulk_export(session, Path(directory) / "out")
            export_seconds = time.perf_counter() - started
        engine.dispose()
    print(f"{args.episodes} episodes, {sum(counts.values())} resources")
    print(f"raw query + json.dumps: {raw_seconds:.2f} s")
    print(f"FHIR NDJSON export:     {export_seconds:.2f} s")
    print(f"ratio raw / export:     {raw_seconds / export_seconds:.2f} (target >= 0.5)")
    with tempfile.TemporaryDirectory() as directory:
        import_half(Path(directory), args.import_episodes)


if __name__ == "__main__":
    main()

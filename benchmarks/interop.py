"""Benchmark: the FHIR Bulk Data export (NDJSON) of N synthetic episodes, beside a raw query of
the same rows plus `json.dumps` of each.

Run: .venv/bin/python benchmarks/interop.py [--episodes 10000]
Prints both times and the ratio raw / export (target >= 0.5: the export costs at most twice
reading and dumping the rows it maps). The import half comes with the importer.
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
from sijcare.store import generate_synthetic, make_engine, upgrade
from sijcare.store.kinds import KINDS

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
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


if __name__ == "__main__":
    main()

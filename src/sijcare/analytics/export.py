"""The de-identified research export: Parquet and CSV, partitioned by clinic and year.

Ids become HMAC-SHA256 keyed hashes (the key stays outside the export, so nobody holding
the export can recompute them from an id); every date of a patient moves by one shift of
1-182 days either way, drawn from the key and the patient, so intervals survive; birth dates
become age bands with everyone over 89 in "90+"; names, contacts, external ids and free text
are not exported at all. Clinic, sex, age band and the first procedure's kind and side are
generalised until every patient shares them with at least 4 others (`anonymity.py`).
Rows are written in the order of their keyed hash, never in the database's id order, which
is registration order and so would give back the dates the shift hides. Aggregate tables
suppress cells under 5. DuckDB reads the export back with the same queries as the clinic
database (`research_connection`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as ds
from sqlalchemy import Connection, func, select

from sijcare.analytics.anonymity import LADDER, K, Person, Published, Step, generalise
from sijcare.analytics.registry import DEFINITIONS, registry_figures
from sijcare.analytics.suppression import SMALL_CELL, suppressed
from sijcare.analytics.tables import EXPORT_TABLES, database_tables
from sijcare.knowledge import load_knowledge
from sijcare.store.db import data_dir, private_directory, private_tree
from sijcare.store.models import (
    Episode,
    Patient,
    ProcedureOutcome,
    ProcedureRecord,
    PromAnswer,
    PromRecord,
)

MAX_SHIFT_DAYS = 182
KEY_BYTES = 32
TABLES = ("patients", "episodes", "procedures", "procedure_outcomes", "proms", "prom_answers")
ARROW_TYPES = {"String": pa.string(), "Date": pa.date32(), "Float": pa.float64(),
               "Integer": pa.int64(), "Boolean": pa.bool_()}


def write_export_key(path: Path) -> None:
    """A new random export key at `path` (mode 0600); fails if one is there."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES))


def default_key_path() -> Path:
    """Where the export key is kept unless a command names another: the private data
    directory (the command and the registry page's download share it)."""
    return private_directory(data_dir()) / "export_key"


def export_key(path: Path) -> bytes:
    """The export key kept at `path` (created once, mode 0600); never written into an export."""
    if not path.exists():
        write_export_key(path)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < KEY_BYTES:
        raise ValueError(f"{path}: the export key needs {KEY_BYTES} random bytes (64 hex digits)")
    return key


class Deidentifier:
    """Keyed hashes, date shifts and age bands, all derived from one secret key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _digest(self, what: str, value: Any) -> bytes:
        return hmac.new(self._key, f"{what}:{value}".encode(), hashlib.sha256).digest()

    def id(self, what: str, value: Any) -> str | None:
        return None if value is None else self._digest(what, value).hex()

    def shift(self, patient_id: Any) -> dt.timedelta:
        """The patient's one shift: 1 to 182 days earlier or later, never 0."""
        number = int.from_bytes(self._digest("shift", patient_id)[:8], "big")
        days = 1 + number % MAX_SHIFT_DAYS
        return dt.timedelta(days=days if number >> 63 else -days)

    @staticmethod
    def age(birth: dt.date, on: dt.date) -> int:
        """Whole years of age on `on`."""
        return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _arrow(name: str, rows: dict[str, list[Any]]) -> pa.Table:
    """The table in the order of its keyed hash (`prom_answers`: its questionnaire's, then the
    section), which says nothing about when a patient was registered."""
    table = EXPORT_TABLES[name]
    schema = pa.schema([(c.name, ARROW_TYPES[type(c.type).__name__]) for c in table.columns]
                       + [("clinic", pa.string()), ("year", pa.int32())])
    order = [("prom_id", "ascending"), ("section", "ascending")] if name == "prom_answers" \
        else [("id", "ascending")]
    return pa.table(rows, schema=schema).sort_by(order)


def write_tables(directory: Path, tables: dict[str, pa.Table]) -> None:
    """Parquet under `parquet/TABLE/clinic=K/year=Y/`, the same rows as CSV under `csv/`."""
    for name, table in tables.items():
        for form in ("parquet", "csv"):
            ds.write_dataset(table, directory / form / name, format=form,
                             partitioning=["clinic", "year"], partitioning_flavor="hive",
                             existing_data_behavior="delete_matching")


def _columns(names: Iterable[str]) -> dict[str, list[Any]]:
    return {name: [] for name in names}


def _first_procedures(connection: Connection) -> dict[int, tuple[str, str | None]]:
    """Each patient's first live procedure as (kind, side): the earliest, ties by kind and
    side, a rule the export's own rows give back the same way (their dates keep their order)."""
    p = ProcedureRecord
    first: dict[int, tuple[str, str | None]] = {}
    for pid, kind, side in connection.execute(
            select(Episode.patient_id, p.kind, p.side).join(Episode, Episode.id == p.episode_id)
            .where(p.voided_on.is_(None))
            .order_by(Episode.patient_id, p.date, p.kind, p.side.is_not(None), p.side)):
        first.setdefault(pid, (kind, side))
    return first


@dataclass(frozen=True)
class Export:
    """The exported tables, and how far each patient's values had to be generalised."""

    tables: dict[str, pa.Table]
    steps: dict[Step, int]  # patients per step of the ladder
    left_out: int


def deidentified_tables(connection: Connection, key: bytes) -> Export:
    """Every exported table, built from the live (not voided) records of the database, for
    the patients `anonymity.generalise` keeps, with their values as it publishes them."""
    d = Deidentifier(key)
    out = {name: _columns([*(c.name for c in EXPORT_TABLES[name].columns), "clinic", "year"])
           for name in TABLES}

    def put(name: str, **values: Any) -> None:
        for column, value in values.items():
            out[name][column].append(value)

    first_visits = (select(Episode.patient_id, func.min(Episode.opened_on).label("first"))
                    .group_by(Episode.patient_id).subquery())
    firsts = _first_procedures(connection)
    people, visits = [], {}
    for pid, clinic_id, sex, birth, demo, first in connection.execute(
            select(Patient.id, Patient.clinic_id, Patient.sex, Patient.birth_date, Patient.demo,
                   first_visits.c.first).join(first_visits, first_visits.c.patient_id
                                              == Patient.id)):
        kind, side = firsts.get(pid, (None, None))
        people.append(Person(pid, demo, d.id("clinic", clinic_id), sex, d.age(birth, first),
                             kind, side))
        visits[pid] = first
    shown = generalise(people)
    patients: dict[int, tuple[Published, dt.timedelta]] = {}  # kept patients
    for person in people:
        if person.id in shown:
            published, shift = shown[person.id], d.shift(person.id)
            patients[person.id] = (published, shift)
            put("patients", id=d.id("patient", person.id), clinic_id=published.clinic,
                sex=published.sex, age_group=published.age_group, synthetic=person.synthetic,
                clinic=published.clinic, year=(visits[person.id] + shift).year)

    def shifted(pid: int, day: dt.date | None) -> dt.date | None:
        return None if day is None else day + patients[pid][1]

    def clinic(pid: int) -> str | None:
        return patients[pid][0].clinic

    for eid, pid, opened, closed in connection.execute(
            select(Episode.id, Episode.patient_id, Episode.opened_on, Episode.closed_on)):
        if pid not in patients:
            continue
        put("episodes", id=d.id("episode", eid), patient_id=d.id("patient", pid),
            opened_on=shifted(pid, opened), closed_on=shifted(pid, closed),
            clinic=clinic(pid), year=shifted(pid, opened).year)
    p = ProcedureRecord
    for row in connection.execute(
            select(p.id, p.episode_id, p.date, p.kind, p.side, p.guidance, p.recorded_by,
                   p.stage_at_treatment, Episode.patient_id)
            .join(Episode, Episode.id == p.episode_id).where(p.voided_on.is_(None))):
        if row.patient_id not in patients:
            continue
        step, day = patients[row.patient_id][0].step, shifted(row.patient_id, row.date)
        # a suppressed kind or side goes from every procedure of the patient (a repeat would
        # tell the first one's); the clinician names the clinic, so goes with it
        put("procedures", id=d.id("procedure", row.id), episode_id=d.id("episode", row.episode_id),
            date=day, kind=row.kind if step.kind else None,
            side=row.side if step.side else None, guidance=row.guidance,
            recorded_by=d.id("user", row.recorded_by) if step.clinic else None,
            stage_at_treatment=row.stage_at_treatment, clinic=clinic(row.patient_id),
            year=day.year)
    o = ProcedureOutcome
    for row in connection.execute(
            select(o.id, o.procedure_id, o.date, o.relief_percent, o.relief_weeks,
                   o.relief_ongoing, o.pgic, Episode.patient_id)
            .join(Episode, Episode.id == o.episode_id).where(o.voided_on.is_(None))):
        if row.patient_id not in patients:
            continue
        day = shifted(row.patient_id, row.date)
        put("procedure_outcomes", id=d.id("procedure_outcome", row.id),
            procedure_id=d.id("procedure", row.procedure_id), date=day,
            relief_percent=row.relief_percent, relief_weeks=row.relief_weeks,
            relief_ongoing=row.relief_ongoing, pgic=row.pgic,
            clinic=clinic(row.patient_id), year=day.year)
    m = PromRecord
    prom_place: dict[int, tuple[str | None, int]] = {}
    for row in connection.execute(
            select(m.id, m.episode_id, m.date, m.instrument, m.value, Episode.patient_id)
            .join(Episode, Episode.id == m.episode_id).where(m.voided_on.is_(None))):
        if row.patient_id not in patients:
            continue
        day = shifted(row.patient_id, row.date)
        prom_place[row.id] = (clinic(row.patient_id), day.year)
        put("proms", id=d.id("prom", row.id), episode_id=d.id("episode", row.episode_id),
            date=day, instrument=row.instrument, value=row.value,
            clinic=prom_place[row.id][0], year=day.year)
    a = PromAnswer
    for prom_id, section, answer in connection.execute(
            select(a.prom_id, a.section, a.answer)):
        if prom_id in prom_place:
            clinic, year = prom_place[prom_id]
            put("prom_answers", prom_id=d.id("prom", prom_id), section=section, answer=answer,
                clinic=clinic, year=year)
    steps = Counter(published.step for published, _ in patients.values())
    return Export({name: _arrow(name, columns) for name, columns in out.items()},
                  {step: steps[step] for step in LADDER}, len(people) - len(patients))


def responder_aggregate(connection: Connection) -> pa.Table:
    """The responder table as a researcher sees it on the registry page: suppressed
    (`suppression.py`), and left empty where nobody could be judged."""
    rows = _columns(["kind", "point", "definition", "judged", "responders", "share"])
    figures = suppressed(registry_figures(connection, database_tables()))
    for kind, treatment in figures.treatments.items():
        for point in treatment.points:
            for definition in DEFINITIONS:
                share = point.responders[definition]
                shown = share.total > 0  # neither withheld nor judged for nobody
                for column, value in (("kind", kind), ("point", point.point),
                                      ("definition", definition),
                                      ("judged", share.total if shown else None),
                                      ("responders", share.count if shown else None),
                                      ("share", share.share if shown else None)):
                    rows[column].append(value)
    return pa.table(rows)


DICTIONARY = """# sijcare research export: data dictionary

Rows are the clinic database's live records (records entered in error are left out).
Directories: `parquet/TABLE/clinic=K/year=Y/` and the same rows as CSV under `csv/`;
`clinic` is the clinic's keyed hash and `year` the year of the row's shifted date
(a patient's first visit; a prom answer takes its questionnaire's).

De-identification
- Every id (`id`, `*_id`, `recorded_by`) is an HMAC-SHA256 keyed hash (64 hex digits). The key
  is kept by the exporting clinic, outside the export; the same key gives the same hashes, so
  later exports link up.
- Every date of a patient is moved by the same shift, 1 to 182 days earlier or later, drawn
  from the key and the patient. Days between a patient's events are kept; calendar dates are not.
- Ages are bands at the first visit (5 years wide unless widened below); everyone over 89 is
  in `90+`.
- Not exported: names, birth dates, contacts, external ids, complaints, injectates, any free text.
- `aggregates/responders.csv` is suppressed like the registry page: a share whose count,
  complement or denominator is under 5 is left empty with its counts, and so is one that
  nobody could be judged for.
- Rows are in the order of their keyed hash (`prom_answers`: its `prom_id`, then `section`),
  never in the order patients were registered, which would give back their real dates.

Generalised so that nobody stands out (k-anonymity, k = {k})
- Someone who knows a patient's clinic, sex, age and the kind and side of their first
  procedure finds at least {k} patients with those values (real and synthetic patients are
  never mixed). Each patient's values are coarsened one step at a time, only as far as
  needed, in this order: {steps}.
- Sex, age and clinic go first because the registry's figures never depend on them; side and
  kind only where a combination is rare even across every clinic.
- A suppressed value is empty: `patients.sex`, `patients.age_group`, `patients.clinic_id`
  (and the `clinic` directory: `clinic=__HIVE_DEFAULT_PARTITION__`), and `procedures.side`
  or `procedures.kind` of every procedure of the patient; `procedures.recorded_by` is empty
  where the clinic is (a clinician names their clinic).
- A patient who shares the values with fewer than {k_1} others even with all of them
  suppressed is left out, with every row.
- In this export: {placed}.

Tables
- patients: id, clinic_id, sex, age_group, synthetic (true for generated or demo patients)
- episodes: id, patient_id, opened_on, closed_on
- procedures: id, episode_id, date, kind, side, guidance, recorded_by (the clinician's hash),
  stage_at_treatment (the care-pathway stage the patient was at when the procedure was
  decided: the engine's stage on the procedure's day from what was recorded by then, without
  that day's procedures, under the patient's default policy; one of {stages};
  null if never derived)
- proms: id, episode_id, date, instrument (nrs 0-10, pgic 1-7, odi), value (NRS/PGIC; null for
  the ODI, whose answers are in prom_answers)
- prom_answers: prom_id, section (1-10), answer (0-5, null when unanswered)
- procedure_outcomes: id, procedure_id, date, relief_percent, relief_weeks, relief_ongoing,
  pgic (a procedure's outcome as found at a follow-up; complications are not exported)
- aggregates/responders.csv: kind, point, definition, judged, responders, share
"""


def _placed(tables: Export) -> str:
    """How many patients each step placed, and how many were left out (under 5: "fewer than
    5", like every small count the export shows)."""
    shown = [f"{_words(n)} {step.words}" for step, n in tables.steps.items() if n]
    return "; ".join([*shown, f"{_words(tables.left_out)} left out"])


def _words(count: int) -> str:
    return f"fewer than {SMALL_CELL}" if 0 < count < SMALL_CELL else str(count)


def linkage_table(connection: Connection, export: Export, key: bytes,
                  previous: bytes) -> pa.Table:
    """Each exported patient's and episode's id under the previous key beside its id now,
    so exports from before a key rotation still link; in the order of the new ids."""
    now, before = Deidentifier(key), Deidentifier(previous)
    rows = []
    for table, what, model in (("patients", "patient", Patient),
                               ("episodes", "episode", Episode)):
        published = set(export.tables[table].column("id").to_pylist())
        for row_id in connection.execute(select(model.id)).scalars():
            if (new_id := now.id(what, row_id)) in published:
                rows.append((table, before.id(what, row_id), new_id))
    rows.sort(key=lambda row: (row[0], row[2]))
    return pa.table({"table": [r[0] for r in rows], "previous_id": [r[1] for r in rows],
                     "id": [r[2] for r in rows]})


def export_research(connection: Connection, directory: Path, key: bytes,
                    previous: bytes | None = None) -> dict[str, int]:
    """Write the export into `directory` (its owner's alone: 0700, every file 0600); return the
    number of rows per table. With the `previous` key (in its rotation's grace period) it also
    writes `linkage.csv`."""
    private_directory(directory)
    export = deidentified_tables(connection, key)
    write_tables(directory, export.tables)
    if previous is not None:
        pa_csv.write_csv(linkage_table(connection, export, key, previous),
                         directory / "linkage.csv")
    aggregates = directory / "aggregates"
    aggregates.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(responder_aggregate(connection), aggregates / "responders.csv")
    stages = ", ".join(stage.id for stage in load_knowledge().pathway.stages)
    steps = "; ".join(f"{n}. {step.words}" for n, step in enumerate(LADDER, 1))
    (directory / "DATA-DICTIONARY.md").write_text(DICTIONARY.format(
        stages=stages, k=K, k_1=K - 1, steps=steps, placed=_placed(export)), encoding="utf-8")
    private_tree(directory)
    return {name: table.num_rows for name, table in export.tables.items()}

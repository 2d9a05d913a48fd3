"""The research export: what it holds, and an attempt to re-identify patients from it."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from scipy.stats import spearmanr
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sijcare.analytics.cohort import store_cohort
from sijcare.analytics.export import SMALL_CELL, Deidentifier, export_research
from sijcare.cli import app
from sijcare.store import add_record, create_episode, create_patient, void_record
from sijcare.store.models import Episode, Patient, ProcedureRecord
from tests.store.helpers import make_world, migrated

KEY = bytes.fromhex("5a" * 32)
TODAY = dt.date(2026, 11, 1)
RARE_NAME, RARE_FAMILY = "Philippa", "Quennell-Ashworth"
FREE_TEXT = "Dr Okonkwo injected triamcinolone at Riverside"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory):
    """A synthetic cohort plus one real-looking patient with a rare name, free text, an age
    over 89 and a record entered in error."""
    engine = migrated(f"sqlite:///{tmp_path_factory.mktemp('db') / 'sijcare.db'}")
    with Session(engine) as session:
        store_cohort(session, 150, seed=5, today=TODAY)
        world = make_world(session, birth_date="1931-02-03")
        patient = create_patient(session, world.clinic_id, {
            "given_name": RARE_NAME, "family_name": RARE_FAMILY, "birth_date": "1929-07-14",
            "sex": "male", "external_id": "MRN-778812"}, world.user_id)
        episode = create_episode(session, patient.id, {
            "complaint": "Right buttock pain after a fall from a ladder",
            "opened_on": "2026-03-02"}, world.user_id)
        add_record(session, episode.id, "prom", {"date": "2026-03-02", "instrument": "nrs",
                                                 "value": 8}, world.user_id, "2026-03-02")
        add_record(session, episode.id, "procedure", {
            "date": "2026-03-09", "kind": "rfa_cooled", "side": "right",
            "injectate": FREE_TEXT}, world.user_id, "2026-03-09")
        wrong = add_record(session, episode.id, "procedure", {
            "date": "2026-03-10", "kind": "prp"}, world.user_id, "2026-03-10")
        void_record(session, episode.id, "procedure", wrong.id, world.user_id,
                    "wrong patient", dt.date(2026, 3, 11))
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def exported(clinic, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("export")
    with clinic.connect() as connection:
        export_research(connection, directory, KEY)
    return directory


def table(directory: Path, name: str) -> list[dict]:
    return ds.dataset(directory / "parquet" / name, format="parquet",
                      partitioning="hive").to_table().to_pylist()


def every_byte(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def test_no_names_contacts_or_free_text_anywhere(clinic, exported: Path) -> None:
    blob = every_byte(exported)
    with Session(clinic) as session:
        patients = session.scalars(select(Patient)).all()
        complaints = session.scalars(select(Episode.complaint)).all()
    words = {RARE_NAME, RARE_FAMILY, "MRN-778812", FREE_TEXT, "Okonkwo", "Riverside", "ladder",
             *(p.family_name for p in patients), *(p.external_id for p in patients if
                                                   p.external_id), *complaints}
    found = [word for word in words if word.encode() in blob]
    assert found == []


def test_every_id_is_a_keyed_hash(exported: Path) -> None:
    for name in ("patients", "episodes", "procedures", "proms"):
        for row in table(exported, name):
            for column, value in row.items():
                if column == "id" or column.endswith("_id") or column == "recorded_by":
                    assert value is None or re.fullmatch(r"[0-9a-f]{64}", value), (name, column)


def test_dates_move_by_one_nonzero_shift_per_patient(clinic, exported: Path) -> None:
    """The clinic (who holds the key) can link rows back; every date moved by the same shift."""
    d = Deidentifier(KEY)
    exported_dates = {row["id"]: row["date"] for row in table(exported, "procedures")}
    kept = {row["id"] for row in table(exported, "patients")}
    shifts = defaultdict(set)
    with Session(clinic) as session:
        rows = session.execute(select(ProcedureRecord.id, ProcedureRecord.date,
                                      Episode.patient_id, ProcedureRecord.voided_on)
                               .join(Episode)).all()
    for procedure_id, day, patient_id, voided in rows:
        key = d.id("procedure", procedure_id)
        if voided or d.id("patient", patient_id) not in kept:
            assert key not in exported_dates  # entered in error, or a patient left out
            continue
        shift = exported_dates[key] - day
        assert 1 <= abs(shift.days) <= 182
        shifts[patient_id].add(shift)
    assert all(len(s) == 1 for s in shifts.values())
    assert len({next(iter(s)) for s in shifts.values()}) > 10  # shifts differ between patients


def test_an_attacker_with_exact_dates_finds_nobody(clinic, exported: Path) -> None:
    """Someone who knows a patient's sex, birth date and a procedure's exact day and kind
    looks for them in the export: the procedure they know is never where they look.

    One shift per patient keeps the gaps between a patient's own dates, so another procedure
    of the same kind lands on the known day when its gap equals the shift (about one pair in
    364). The export does not prevent that; it stays rare."""
    patients = {row["id"]: row for row in table(exported, "patients")}
    episodes = {row["id"]: row["patient_id"] for row in table(exported, "episodes")}
    by_day_kind = defaultdict(set)
    for row in table(exported, "procedures"):
        by_day_kind[row["date"], row["kind"]].add((episodes[row["episode_id"]], row["id"]))
    d = Deidentifier(KEY)
    with Session(clinic) as session:
        known = session.execute(select(Patient.id, Patient.sex, ProcedureRecord.id,
                                       ProcedureRecord.date, ProcedureRecord.kind)
                                .join(Episode, Episode.patient_id == Patient.id)
                                .join(ProcedureRecord, ProcedureRecord.episode_id == Episode.id)
                                .where(ProcedureRecord.voided_on.is_(None))).all()
    found_it, found_another = 0, 0
    for patient_id, sex, procedure_id, day, kind in known:
        theirs = {row for p, row in by_day_kind[day, kind]
                  if p == d.id("patient", patient_id) and patients[p]["sex"] == sex}
        found_it += d.id("procedure", procedure_id) in theirs
        found_another += bool(theirs - {d.id("procedure", procedure_id)})
    assert len(known) > 100
    assert found_it == 0
    assert found_another <= len(known) / 100


def test_rare_combinations_are_coarse(exported: Path) -> None:
    """Quasi-identifiers are coarse: ages in bands (or suppressed), everyone over 89 together."""
    groups = {row["age_group"] for row in table(exported, "patients")}
    assert "90+" in groups  # the cohort's oldest
    assert all(g is None or g == "90+" or (re.fullmatch(r"\d+-\d+", g)
                                           and int(g.split("-")[0]) <= 85) for g in groups)
    assert not any(name in row for row in table(exported, "patients")
                   for name in ("birth_date", "given_name", "family_name", "external_id"))


def first_procedures(directory: Path) -> dict[str, tuple[str | None, str | None]]:
    """Each exported patient's first procedure (kind, side) as the export's rows show it."""
    episodes = {row["id"]: row["patient_id"] for row in table(directory, "episodes")}
    found: dict[str, tuple] = {}
    for row in table(directory, "procedures"):
        order = (row["date"], row["kind"] or "", row["side"] is not None, row["side"] or "")
        patient = episodes[row["episode_id"]]
        if patient not in found or order < found[patient][0]:
            found[patient] = (order, (row["kind"], row["side"]))
    return {patient: first for patient, (_, first) in found.items()}


def test_nobody_is_unique_on_clinic_sex_age_and_first_procedure(exported: Path) -> None:
    """Someone who knows a patient's clinic, sex, age band and first procedure's kind and side
    finds at least 5 patients with them in the export (the lone real patients are left out)."""
    firsts = first_procedures(exported)
    patients = table(exported, "patients")
    known = Counter((p["synthetic"], p["clinic_id"], p["sex"], p["age_group"],
                     p["id"] in firsts, firsts.get(p["id"])) for p in patients)
    assert len(patients) > 140 and min(known.values()) >= 5, sorted(known.values())[:5]
    assert not any(p["synthetic"] is False for p in patients)
    assert len({p["age_group"] for p in patients}) > 3  # coarsened only as far as needed


def test_row_order_says_nothing_about_registration_order(clinic, exported: Path) -> None:
    """Rows in id order would be rows in registration order, and so give back the first-visit
    dates the shift hides: within every file, position and registration order are unrelated."""
    d = Deidentifier(KEY)
    with Session(clinic) as session:
        registered = {name: {d.id(name.rstrip("s"), i): i for i in session.scalars(
            select(model.id))} for name, model in (("patients", Patient),
                                                     ("episodes", Episode),
                                                     ("procedures", ProcedureRecord))}
    correlations, rows = [], 0
    for name, ids in registered.items():
        for file in (exported / "parquet" / name).rglob("*.parquet"):
            order = [ids[key] for key in pq.read_table(file).column("id").to_pylist()]
            if len(order) >= 10:
                correlations.append(len(order) * spearmanr(range(len(order)), order)[0])
                rows += len(order)
    assert rows > 300
    assert abs(sum(correlations) / rows) < 0.2  # in id order this is 1


def test_aggregates_suppress_small_cells(exported: Path) -> None:
    rows = pa_csv.read_csv(exported / "aggregates" / "responders.csv").to_pylist()
    assert rows
    for row in rows:
        for column in ("judged", "responders"):
            assert row[column] is None or row[column] >= SMALL_CELL
    assert any(row["responders"] is None for row in rows)  # something was small enough


def test_partitions_and_dictionary(exported: Path) -> None:
    partitions = {p.relative_to(exported).parts[:4] for p in exported.rglob("part-*")}
    assert {("parquet", "procedures"), ("csv", "procedures")} <= {p[:2] for p in partitions}
    assert all(p[2].startswith("clinic=") and p[3].startswith("year=") for p in partitions)
    dictionary = (exported / "DATA-DICTIONARY.md").read_text()
    for column in ("age_group", "recorded_by", "prom_answers", "90+", "HMAC",
                   "stage_at_treatment", "diagnostic_block, maintenance", "k = 5",
                   "ages in 10-year bands", "clinic suppressed", "left out",
                   "order of their keyed hash"):
        assert column in dictionary
    assert re.search(r"In this export: \d+ as recorded, ages in 5-year bands", dictionary)


def test_command_keeps_the_key_outside(clinic, tmp_path: Path) -> None:
    url = str(clinic.url)
    key_file = tmp_path / "keys" / "export.key"
    runner = CliRunner()
    result = runner.invoke(app, ["export", "research", "-o", str(tmp_path / "out"),
                                 "--key-file", str(key_file), "--url", url])
    assert result.exit_code == 0, result.output
    assert key_file.read_text().strip().encode() not in every_byte(tmp_path / "out")
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    again = runner.invoke(app, ["export", "research", "-o", str(tmp_path / "again"),
                                "--key-file", str(key_file), "--url", url])
    assert again.exit_code == 0
    assert table(tmp_path / "out", "patients") == table(tmp_path / "again", "patients")
    key_file.write_text("short")
    bad = runner.invoke(app, ["export", "research", "-o", str(tmp_path / "bad"),
                              "--key-file", str(key_file), "--url", url])
    assert bad.exit_code == 2
    assert "--key-file" in bad.output


def test_a_rotated_key_links_exports_through_its_grace_period(clinic, tmp_path: Path) -> None:
    """After `sijcare keys rotate-export`, exports carry linkage.csv from each previous id to
    today's; when the grace period ends, they no longer do."""
    url = str(clinic.url)
    key_file = tmp_path / "keys" / "export.key"
    runner = CliRunner()

    def export(name: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["export", "research", "-o", str(tmp_path / name),
                                   "--key-file", str(key_file), "--url", url])

    assert export("before").exit_code == 0
    rotated = runner.invoke(app, ["keys", "rotate-export", "--grace-days", "30",
                                  "--key-file", str(key_file), "--url", url])
    assert rotated.exit_code == 0, rotated.output
    during = export("during")
    assert during.exit_code == 0 and "linkage.csv pairs" in during.stdout
    before = {row["id"] for row in table(tmp_path / "before", "patients")}
    now = {row["id"] for row in table(tmp_path / "during", "patients")}
    assert before.isdisjoint(now)  # a new key: new ids...
    links = pa_csv.read_csv(tmp_path / "during" / "linkage.csv").to_pylist()
    pairs = {row["previous_id"]: row["id"] for row in links if row["table"] == "patients"}
    assert set(pairs) == before and set(pairs.values()) == now  # ...each linked to its old one
    previous = key_file.with_name("export.key.previous")
    previous.write_text(previous.read_text().replace(
        re.search(r'"until": "([^"]+)"', previous.read_text()).group(1),  # type: ignore[union-attr]
        "2020-01-01T00:00:00+00:00"))
    after = export("after")
    assert after.exit_code == 0 and "grace ended 2020-01-01" in after.stdout
    assert not (tmp_path / "after" / "linkage.csv").exists()

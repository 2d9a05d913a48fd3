"""The tables the registry reads: the clinic database's, or the research export's.

The export keeps the database's table and column names for what it keeps (ids become keyed
hashes, birth dates become age groups), so one set of queries runs on both; only the
database has voided records to leave out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Date, Float, Integer, MetaData, String, Table

from sijcare.store.models import (
    Episode,
    Patient,
    ProcedureOutcome,
    ProcedureRecord,
    PromAnswer,
    PromRecord,
)


@dataclass(frozen=True)
class Tables:
    patients: Table
    episodes: Table
    procedures: Table
    proms: Table
    prom_answers: Table
    outcomes: Table  # procedure outcomes found at follow-up
    voidable: bool  # records carry `voided_on` (the clinic database)


def database_tables() -> Tables:
    return Tables(Patient.__table__, Episode.__table__, ProcedureRecord.__table__,
                  PromRecord.__table__, PromAnswer.__table__, ProcedureOutcome.__table__,
                  voidable=True)


EXPORT = MetaData()
KEY = String(64)  # an HMAC-SHA256 hex digest standing in for an id

EXPORT_TABLES = {
    "patients": Table("patients", EXPORT, Column("id", KEY), Column("clinic_id", KEY),
                      Column("sex", String(10)), Column("age_group", String(10)),
                      Column("synthetic", Boolean)),
    "episodes": Table("episodes", EXPORT, Column("id", KEY), Column("patient_id", KEY),
                      Column("opened_on", Date), Column("closed_on", Date)),
    "procedures": Table("procedures", EXPORT, Column("id", KEY), Column("episode_id", KEY),
                        Column("date", Date), Column("kind", String(30)),
                        Column("side", String(10)), Column("guidance", String(20)),
                        Column("recorded_by", KEY), Column("stage_at_treatment", String(40))),
    "proms": Table("proms", EXPORT, Column("id", KEY), Column("episode_id", KEY),
                   Column("date", Date), Column("instrument", String(10)),
                   Column("value", Float)),
    "prom_answers": Table("prom_answers", EXPORT, Column("prom_id", KEY),
                          Column("section", Integer), Column("answer", Integer)),
    "procedure_outcomes": Table(
        "procedure_outcomes", EXPORT, Column("id", KEY), Column("procedure_id", KEY),
        Column("date", Date), Column("relief_percent", Float), Column("relief_weeks", Float),
        Column("relief_ongoing", Boolean), Column("pgic", Integer)),
}


def export_tables() -> Tables:
    t = EXPORT_TABLES
    return Tables(t["patients"], t["episodes"], t["procedures"], t["proms"], t["prom_answers"],
                  t["procedure_outcomes"], voidable=False)

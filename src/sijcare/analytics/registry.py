"""The registry's figures per treatment: responders by definition, changes, durability.

`registry_figures` runs the queries on any connection (the clinic database, or DuckDB over
the research export) and turns their counts into intervals. Every figure keeps its
denominators and the share of due follow-ups answered, since missing follow-up biases it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection

from sijcare.analytics.knowledge import load_registry
from sijcare.analytics.queries import Filters, durability_rows, responder_rows
from sijcare.analytics.stats import Mean, Proportion, Survival, kaplan_meier, mean_interval, wilson
from sijcare.analytics.tables import Tables

DEFINITIONS = {"relief_50": "relief_judged", "nrs_mcid": "nrs_pairs", "odi_mcid": "odi_pairs",
               "pgic": "pgic_answers"}  # definition -> the column counting who could be judged


@dataclass(frozen=True)
class PointFigures:
    point: str
    due: int | None  # None: too few to show (and so is every figure of the point)
    answered: Proportion  # of those due, how many answered in the window
    responders: dict[str, Proportion]  # definition id -> responders among those judged
    nrs_change: Mean
    odi_change: Mean


@dataclass
class TreatmentFigures:
    kind: str
    points: list[PointFigures] = field(default_factory=list)
    durability: Survival | None = None
    withheld: bool = False  # too few to show anything: no points, no durability

    def at(self, point: str) -> PointFigures | None:
        return next((p for p in self.points if p.point == point), None)


@dataclass(frozen=True)
class RegistryFigures:
    as_of: dt.date
    filters: Filters
    treatments: dict[str, TreatmentFigures]


def registry_figures(connection: Connection, tables: Tables, filters: Filters | None = None,
                     as_of: dt.date | None = None) -> RegistryFigures:
    filters = filters or Filters()
    as_of = as_of or dt.date.today()
    order = [p.id for p in load_registry().points]
    treatments: dict[str, TreatmentFigures] = {}
    rows = connection.execute(responder_rows(tables, filters, as_of)).mappings().all()
    for row in sorted(rows, key=lambda r: (r["kind"], order.index(r["point"]))):
        figures = treatments.setdefault(row["kind"], TreatmentFigures(row["kind"]))
        figures.points.append(PointFigures(
            point=row["point"], due=row["due"], answered=wilson(row["answered"], row["due"]),
            responders={d: wilson(int(row[d]), int(row[n])) for d, n in DEFINITIONS.items()},
            nrs_change=mean_interval(int(row["nrs_pairs"]), float(row["nrs_change_sum"]),
                                     float(row["nrs_change_squares"])),
            odi_change=mean_interval(int(row["odi_pairs"]), float(row["odi_change_sum"]),
                                     float(row["odi_change_squares"]))))
    grouped: dict[str, tuple[list[int], list[int], list[int]]] = {}
    for kind, days, lost, n in connection.execute(durability_rows(tables, filters)):
        columns = grouped.setdefault(kind, ([], [], []))
        for column, value in zip(columns, (days, lost, n), strict=True):
            column.append(int(value))
    for kind, (days, lost, counts) in grouped.items():
        figures = treatments.setdefault(kind, TreatmentFigures(kind))
        figures.durability = kaplan_meier(days, lost, counts)
    return RegistryFigures(as_of, filters, dict(sorted(treatments.items())))

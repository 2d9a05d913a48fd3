"""The registry as a page or a report shows it: figures, pictures, trials, table rows.

Researchers see aggregates with small cells (< 5) hidden, like the research export: the
figures are suppressed first (`suppression.py`) and the tables, charts, legends and trial
comparisons are all drawn from what is left, so none can show a withheld number. Clinicians
of a clinic see their clinic's figures in full. Nothing here names a patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from sijcare.analytics.charts import (
    KIND_NAMES,
    Chart,
    change_chart,
    durability_chart,
    responder_chart,
)
from sijcare.analytics.knowledge import DAYS_PER_MONTH, Definition, load_registry
from sijcare.analytics.queries import Filters
from sijcare.analytics.registry import RegistryFigures, registry_figures
from sijcare.analytics.stats import Mean, Proportion, Survival
from sijcare.analytics.suppression import SMALL_CELL, suppressed
from sijcare.analytics.tables import database_tables
from sijcare.analytics.trials import TrialPanel, trial_panels
from sijcare.knowledge import load_knowledge
from sijcare.labels import inline, label


@dataclass(frozen=True)
class Row:
    kind: str
    point: str
    due: str
    answered: str
    responders: dict[str, str]
    nrs_change: str
    odi_change: str


@dataclass(frozen=True)
class Durability:
    kind: str
    n: str
    events: str
    median: str


@dataclass(frozen=True)
class RegistryView:
    figures: RegistryFigures
    definitions: list[Definition]
    rows: list[Row]
    durability: list[Durability]
    charts: dict[str, Chart]
    panels: dict[str, list[TrialPanel]]
    suppressed: bool
    kind_names: dict[str, str]
    applied: str  # the filters in words
    too_few: list[str]  # treatments with too few patients to show anything

    @property
    def nothing_to_show(self) -> bool:
        """Procedures match, but too few to show a single figure (say so, not "none")."""
        return bool(self.too_few) and not self.rows


def stage_choices() -> list[tuple[str, str]]:
    """The pathway's stages in pathway order with their labels: what the stage filter offers."""
    return [(stage.id, label(stage.id)) for stage in load_knowledge().pathway.stages]


def filters_applied(filters: Filters) -> str:
    """Which procedures the figures count, in words (clinics are the reader's, said apart)."""
    dates = " ".join(([f"from {filters.date_from}"] if filters.date_from else [])
                     + ([f"to {filters.date_to}"] if filters.date_to else []))
    parts = [f"Procedures {dates or 'of every date'}"]
    if filters.side:
        parts.append(f"{filters.side} side")
    if filters.clinician is not None:
        parts.append("one clinician")
    if filters.stage:
        parts.append(f"at the stage {inline(filters.stage)} when treated")
    return ", ".join(parts)


WITHHELD = f"suppressed (<{SMALL_CELL})"


def _count(n: int | None) -> str:
    return f"<{SMALL_CELL}" if n is None else str(n)


def _share(p: Proportion) -> str:
    if p.withheld:
        return WITHHELD
    if not p.total:
        return "-"
    return f"{100 * p.share:.0f}% ({p.count}/{p.total}; {100 * p.low:.0f}-{100 * p.high:.0f})"


def _mean(m: Mean) -> str:
    if m.withheld:
        return WITHHELD
    if m.mean is None:
        return "-"
    interval = f" ({m.low:+.1f} to {m.high:+.1f})" if m.low is not None else ""
    return f"{m.mean:+.1f}{interval}, n={m.n}"


def _months(days: float | None, survival: Survival) -> str:
    if days is None:
        return "beyond the follow-up shown" if survival.truncated else "not reached"
    return f"{days / DAYS_PER_MONTH:.1f}"


def _durability(kind: str, s: Survival) -> Durability:
    if s.withheld:
        return Durability(kind, WITHHELD, WITHHELD, WITHHELD)
    median = _months(s.median, s)
    if s.median is not None:
        median += f" ({_months(s.median_low, s)} to {_months(s.median_high, s)})"
    return Durability(kind, str(s.n), str(s.events), median)


def registry_view(connection: Connection, filters: Filters, *, suppress: bool,
                  as_of: dt.date | None = None) -> RegistryView:
    """The view of the figures; with `suppress`, of the suppressed figures only."""
    figures = registry_figures(connection, database_tables(), filters, as_of)
    if suppress:
        figures = suppressed(figures)
    rows, durability = [], []
    for kind, treatment in figures.treatments.items():
        for p in treatment.points:
            rows.append(Row(kind, p.point, _count(p.due), _share(p.answered),
                            {d: _share(r) for d, r in p.responders.items()},
                            _mean(p.nrs_change), _mean(p.odi_change)))
        if treatment.durability:
            durability.append(_durability(kind, treatment.durability))
    charts = {"durability": durability_chart(figures), "responders": responder_chart(figures),
              "nrs": change_chart(figures, "nrs"), "odi": change_chart(figures, "odi")
              } if rows else {}  # without a row to show, the page and report show no chart
    too_few = [kind for kind, treatment in figures.treatments.items() if treatment.withheld]
    return RegistryView(figures, load_registry().definitions, rows, durability, charts,
                        trial_panels(figures), suppress, KIND_NAMES, filters_applied(filters),
                        too_few)

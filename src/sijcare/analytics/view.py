"""The registry as a page or a report shows it: figures, pictures, trials, table rows.

Researchers see aggregates with small cells (< 5) hidden, like the research export;
clinicians of a clinic see their clinic's figures in full. Nothing here names a patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from sijcare.analytics.charts import (
    KIND_NAMES,
    Chart,
    change_chart,
    durability_chart,
    responder_chart,
)
from sijcare.analytics.export import SMALL_CELL
from sijcare.analytics.knowledge import DAYS_PER_MONTH, Definition, load_registry
from sijcare.analytics.queries import Filters
from sijcare.analytics.registry import RegistryFigures, registry_figures
from sijcare.analytics.stats import Mean, Proportion
from sijcare.analytics.tables import database_tables
from sijcare.analytics.trials import Comparison, TrialPanel, trial_panels
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


def _count(n: int, suppress: bool) -> str:
    return f"<{SMALL_CELL}" if suppress and 0 < n < SMALL_CELL else str(n)


def _share(p: Proportion, suppress: bool) -> str:
    if not p.total:
        return "-"
    if suppress and (p.total < SMALL_CELL or 0 < p.count < SMALL_CELL
                     or 0 < p.total - p.count < SMALL_CELL):
        return f"suppressed (<{SMALL_CELL})"
    return f"{100 * p.share:.0f}% ({p.count}/{p.total}; {100 * p.low:.0f}-{100 * p.high:.0f})"


def _mean(m: Mean, suppress: bool) -> str:
    if m.mean is None:
        return "-"
    if suppress and m.n < SMALL_CELL:
        return f"suppressed (<{SMALL_CELL})"
    interval = f" ({m.low:+.1f} to {m.high:+.1f})" if m.low is not None else ""
    return f"{m.mean:+.1f}{interval}, n={m.n}"


def _months(days: float | None) -> str:
    return "not reached" if days is None else f"{days / DAYS_PER_MONTH:.1f}"


def registry_view(connection: Connection, filters: Filters, *, suppress: bool,
                  as_of: dt.date | None = None) -> RegistryView:
    figures = registry_figures(connection, database_tables(), filters, as_of)
    rows, durability = [], []
    for kind, treatment in figures.treatments.items():
        for p in treatment.points:
            rows.append(Row(kind, p.point, _count(p.due, suppress), _share(p.answered, suppress),
                            {d: _share(r, suppress) for d, r in p.responders.items()},
                            _mean(p.nrs_change, suppress), _mean(p.odi_change, suppress)))
        s = treatment.durability
        if s:
            median = _months(s.median)
            if s.median is not None:
                median += f" ({_months(s.median_low)} to {_months(s.median_high)})"
            durability.append(Durability(kind, _count(s.n, suppress),
                                         _count(s.events, suppress), median))
    charts = {"durability": durability_chart(figures), "responders": responder_chart(figures),
              "nrs": change_chart(figures, "nrs"), "odi": change_chart(figures, "odi")}
    panels = trial_panels(figures)
    if suppress:
        panels = {kind: [replace(panel, comparisons=[_hidden(c) for c in panel.comparisons])
                         for panel in kind_panels] for kind, kind_panels in panels.items()}
    return RegistryView(figures, load_registry().definitions, rows, durability, charts,
                        panels, suppress, KIND_NAMES, filters_applied(filters))


def _hidden(comparison: Comparison) -> Comparison:
    """A clinic figure resting on fewer than 5 patients (or non-responders) is not shown."""
    clinic = comparison.clinic
    small = ((isinstance(clinic, Proportion) and clinic.total
              and _share(clinic, True).startswith("suppressed"))
             or (isinstance(clinic, Mean) and clinic.mean is not None and clinic.n < SMALL_CELL))
    return replace(comparison, clinic_text=f"suppressed (<{SMALL_CELL})") if small else comparison

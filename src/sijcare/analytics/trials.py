"""Beside the trials: each published figure next to the clinic's own, with plain warnings.

A clinic figure and a trial figure are only comparable when both count responders the same
way, at the same time, in a similar group; every difference the registry knows of is said.
A clinic figure the suppression withheld (`suppression.py`) reads "too few to show", and no
warning repeats a number it kept back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sijcare.analytics.knowledge import DAYS_PER_MONTH, Figure, Trial, load_registry
from sijcare.analytics.registry import RegistryFigures, TreatmentFigures
from sijcare.analytics.stats import Mean, Proportion
from sijcare.knowledge import load_knowledge, short_citation
from sijcare.knowledge.content import source_label
from sijcare.labels import label

LOW_RESPONSE = 0.6  # below this share of due follow-ups answered, say the figure may be biased
FEW = 20  # fewer judged than this: say the interval is wide
TOO_FEW = "too few to show"


@dataclass(frozen=True)
class Comparison:
    figure: Figure
    published: str  # "64%" or "-31.1 points"
    clinic: Proportion | Mean | float | None
    clinic_text: str
    warnings: list[str]


@dataclass(frozen=True)
class TrialPanel:
    trial: Trial
    citation: str
    label: str | None  # advocacy or industry sponsorship, as the public pages show it
    comparisons: list[Comparison] = field(default_factory=list)


def _percent(share: float | None) -> str:
    return "no data" if share is None else f"{100 * share:.0f}%"


def _compare(trial: Trial, figure: Figure, mine: TreatmentFigures | None) -> Comparison:
    registry = load_registry()
    warnings = []
    point = mine.at(figure.point) if mine and figure.point else None
    if figure.point:
        months = registry.point(figure.point).days / DAYS_PER_MONTH
        if abs(months - figure.months) > 0.25:
            unit = "month" if figure.months == 1 else "months"
            warnings.append(f"The trial reported at {figure.months:g} {unit}; the clinic's "
                            f"nearest follow-up point is at {label(figure.point)}.")
        if point and point.answered.share is not None and point.answered.share < LOW_RESPONSE:
            warnings.append(f"Only {_percent(point.answered.share)} of the clinic's due "
                            f"{label(figure.point)} follow-ups were answered; missing answers can "
                            "bias its figure.")
    clinic: Proportion | Mean | float | None = None
    withheld = bool(mine and mine.withheld)
    if figure.measure == "responders":
        published = f"{figure.percent:g}%"
        if withheld or (point and point.responders[trial.compares_with].withheld):
            text = TOO_FEW
        elif point and not point.responders[trial.compares_with].total:
            text = "nobody could be judged yet"
        elif point:
            clinic = point.responders[trial.compares_with]
            text = (f"{_percent(clinic.share)} ({clinic.count} of {clinic.total}; 95% CI "
                    f"{_percent(clinic.low)}-{_percent(clinic.high)})")
            if clinic.total < FEW:
                warnings.append(f"Only {clinic.total} clinic patients could be judged; the "
                                "interval is wide.")
        else:
            text = "no follow-ups yet"
    elif figure.measure == "durability":
        published = f"{figure.percent:g}% still relieved"
        survival = mine.durability if mine else None
        clinic = survival.at(figure.months * DAYS_PER_MONTH) if survival else None
        if withheld or (survival and survival.withheld):
            text = TOO_FEW
        elif clinic is None:
            text = ("too few followed that long to show" if survival and survival.truncated
                    else "not followed that long")
        else:
            text = f"{_percent(clinic)} still relieved (Kaplan-Meier, n={survival.n})"
    else:
        published = f"{figure.points:+g} points"
        change = (point.odi_change if figure.measure == "odi_change" else point.nrs_change
                  ) if point else None
        clinic = change
        if withheld or (change and change.withheld):
            text = TOO_FEW
        elif change and change.mean is not None:
            interval = (f"; 95% CI {change.low:+.1f} to {change.high:+.1f}"
                        if change.low is not None else "")
            text = f"{change.mean:+.1f} points (n={change.n}{interval})"
        else:
            text = "no paired scores yet"
    return Comparison(figure, published, clinic, text, warnings)


def trial_panels(figures: RegistryFigures) -> dict[str, list[TrialPanel]]:
    """Per treatment kind, its trials with each figure beside the clinic's."""
    knowledge = load_knowledge()
    panels: dict[str, list[TrialPanel]] = {}
    for trial in load_registry().trials:
        mine = figures.treatments.get(trial.treatment)
        source = knowledge.sources[trial.source]
        panel = TrialPanel(trial, short_citation(source), source_label(source, knowledge))
        for figure in trial.figures:
            panel.comparisons.append(_compare(trial, figure, mine))
        panels.setdefault(trial.treatment, []).append(panel)
    return panels

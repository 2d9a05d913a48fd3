"""Oswestry Disability Index v2.1a scoring."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sijcare.knowledge import OdiRule
from sijcare.numbers import exact, round_half_up

# The ten section titles, free to show; the statements under each are Jeremy Fairbank's
# copyright and ship only with a clinic's licence (SIJCARE_ODI_TEXT_FILE).
SECTIONS = ("Pain intensity", "Personal care", "Lifting", "Walking", "Sitting", "Standing",
            "Sleeping", "Sex life", "Social life", "Travelling")


@dataclass(frozen=True)
class OdiScore:
    score: float | None  # None when too few sections were answered
    band: str | None
    answered: int


def score_odi(answers: list[int | None], rule: OdiRule) -> OdiScore:
    """sum / (5 x answered) x 100, one decimal; only with enough sections answered."""
    if len(answers) != rule.sections:
        raise ValueError(f"the ODI has {rule.sections} sections, got {len(answers)} answers")
    given = [a for a in answers if a is not None]
    for value in given:
        if not 0 <= value <= rule.max_per_section or isinstance(value, bool):
            raise ValueError(f"ODI answers are 0-{rule.max_per_section}, got {value!r}")
    if len(given) < rule.min_answered:
        return OdiScore(score=None, band=None, answered=len(given))
    score = round_half_up(Fraction(sum(given) * 100, rule.max_per_section * len(given)), 1)
    return OdiScore(score=score, band=band(score, rule), answered=len(given))


def band(score: float, rule: OdiRule) -> str:
    return next(b.band for b in rule.bands if score <= b.max)


def mcid_reached(baseline: float, latest: float, points: float, percent: float) -> bool:
    """Improvement (a fall) of at least `points`, or at least `percent` of the baseline."""
    fall = exact(baseline) - exact(latest)
    return fall >= exact(points) or (baseline > 0 and fall / exact(baseline) * 100 >= percent)

"""Small cells hidden: the registry's figures as a researcher may see them.

A count of 1 to 4 patients can point at a person, and so can anything computed from one: a
share, a mean, a median, a legend's "n=2", a step of a survival curve. So the figures are
suppressed once, here, and every table, chart, legend and trial comparison is drawn from
what this returns; nothing downstream can show a number the suppression did not keep.

A count under 5 is small, zero included: "0 of 12 responded" tells as much about each of
the 12 as "1 of 12" does, and "12 of 12" as much as "11 of 12".

- A point with fewer than 5 procedures due shows nothing (`due` None).
- A share is withheld when its denominator, its count or its complement is small (one that
  nobody could be judged for stays: it says "-"); a mean when it rests on 1 to 4 pairs.
- A durability curve is withheld when the procedures followed, those that lost relief or
  those that kept it are small; a shown curve ends where fewer than 5 are still followed,
  and its median or either bound beyond that end is not given.
- A treatment whose every figure is withheld is "too few to show" as a whole.
"""

from __future__ import annotations

from dataclasses import replace

from sijcare.analytics.registry import PointFigures, RegistryFigures, TreatmentFigures
from sijcare.analytics.stats import Mean, Proportion, Survival

SMALL_CELL = 5
WITHHELD_SHARE = Proportion(0, 0, None, None, withheld=True)
WITHHELD_MEAN = Mean(0, None, None, None, withheld=True)
WITHHELD_SURVIVAL = Survival(0, 0, [], [], [], [], None, None, None, withheld=True)


def small(count: int) -> bool:
    return count < SMALL_CELL


def share(p: Proportion) -> Proportion:
    if not p.total:
        return p
    return WITHHELD_SHARE if small(p.total) or small(p.count) or small(p.total - p.count) else p


def mean(m: Mean) -> Mean:
    return WITHHELD_MEAN if m.n and small(m.n) else m


def survival(s: Survival) -> Survival:
    if small(s.n) or small(s.events) or small(s.n - s.events):
        return WITHHELD_SURVIVAL
    shown = next((i for i, n in enumerate(s.at_risk) if n < SMALL_CELL), len(s.days))
    if shown == len(s.days):
        return s
    end = s.days[shown - 1] if shown else 0.0

    def within(day: float | None) -> float | None:
        return day if day is not None and day <= end else None

    return replace(s, days=s.days[:shown], relieved=s.relieved[:shown], low=s.low[:shown],
                   high=s.high[:shown], at_risk=s.at_risk[:shown], median=within(s.median),
                   median_low=within(s.median_low), median_high=within(s.median_high),
                   truncated=True)


def point(p: PointFigures) -> PointFigures:
    if p.due is None or small(p.due):
        return PointFigures(p.point, None, WITHHELD_SHARE,
                            dict.fromkeys(p.responders, WITHHELD_SHARE), WITHHELD_MEAN,
                            WITHHELD_MEAN)
    return PointFigures(p.point, p.due, share(p.answered),
                        {d: share(r) for d, r in p.responders.items()}, mean(p.nrs_change),
                        mean(p.odi_change))


def treatment(t: TreatmentFigures) -> TreatmentFigures:
    points = [point(p) for p in t.points]
    durability = survival(t.durability) if t.durability else None
    if all(p.due is None for p in points) and (durability is None or durability.withheld):
        return TreatmentFigures(t.kind, withheld=True)
    return TreatmentFigures(t.kind, points, durability)


def suppressed(figures: RegistryFigures) -> RegistryFigures:
    """The figures with every small cell, and everything computed from one, withheld."""
    return replace(figures, treatments={kind: treatment(t)
                                        for kind, t in figures.treatments.items()})

"""Intervals from counts, with statsmodels: Wilson for proportions, t for means, Kaplan-Meier.

The database hands over counts and sums; nothing here reads a patient row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# scipy and statsmodels are imported where first used: together they cost seconds at start-up
# (every server process, every CLI call), and most requests draw no statistic.


@dataclass(frozen=True)
class Proportion:
    count: int
    total: int
    low: float | None
    high: float | None
    withheld: bool = False  # rests on too few patients to show (`analytics/suppression.py`)

    @property
    def share(self) -> float | None:
        return self.count / self.total if self.total else None


def wilson(count: int, total: int) -> Proportion:
    """The share with its Wilson 95% interval (sound for small n and shares near 0 or 1)."""
    if not total:
        return Proportion(count, total, None, None)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(count, total, alpha=0.05, method="wilson")
    share = count / total  # at 0 % or 100 % the bound can miss the share by a rounding error
    return Proportion(count, total, min(float(low), share), max(float(high), share))


@dataclass(frozen=True)
class Mean:
    n: int
    mean: float | None
    low: float | None
    high: float | None
    withheld: bool = False  # rests on too few patients to show


def mean_interval(n: int, total: float, squares: float) -> Mean:
    """Mean with its t 95% interval, from the count, sum and sum of squares."""
    if not n:
        return Mean(0, None, None, None)
    mean = total / n
    if n < 2:
        return Mean(n, mean, None, None)
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    from scipy import stats as scipy_stats

    half = float(scipy_stats.t.ppf(0.975, n - 1)) * math.sqrt(variance / n)
    return Mean(n, mean, mean - half, mean + half)


@dataclass(frozen=True)
class Survival:
    """A Kaplan-Meier curve of lasting relief, with the median and its 95% interval."""

    n: int
    events: int
    days: list[float]
    relieved: list[float]  # share still relieved just after each day
    low: list[float]  # 95% confidence band
    high: list[float]
    median: float | None
    median_low: float | None
    median_high: float | None
    at_risk: list[int] = field(default_factory=list)  # still followed just before each day
    withheld: bool = False  # rests on too few patients (or events) to show
    truncated: bool = False  # cut where fewer than 5 were still followed

    def at(self, day: float) -> float | None:
        """Share still relieved at `day` (None past the last observation)."""
        if not self.days or day > self.days[-1]:
            return None
        index = int(np.searchsorted(self.days, day, side="right")) - 1
        return 1.0 if index < 0 else self.relieved[index]


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def kaplan_meier(days: list[int], lost: list[int], counts: list[int]) -> Survival | None:
    """KM from grouped rows (day, 1 when relief was lost else 0 for censored, how many)."""
    if not counts or sum(counts) == 0:
        return None
    from statsmodels.duration.survfunc import SurvfuncRight

    with np.errstate(all="ignore"):  # log(0) at the curve's ends gives an open bound
        fit = SurvfuncRight(np.asarray(days, float), np.asarray(lost, float),
                            freq_weights=np.asarray(counts, float))
        low, high = fit.simultaneous_cb(alpha=0.05)  # Hall-Wellner band over the whole curve
        median_low, median_high = fit.quantile_ci(0.5)
    return Survival(
        n=int(sum(counts)), events=int(sum(c for c, e in zip(counts, lost, strict=True) if e)),
        days=[float(d) for d in fit.surv_times], relieved=[float(p) for p in fit.surv_prob],
        low=[float(x) for x in np.nan_to_num(low, nan=0.0)],
        high=[float(x) for x in np.nan_to_num(high, nan=1.0)], median=_finite(fit.quantile(0.5)),
        median_low=_finite(median_low), median_high=_finite(median_high),
        at_risk=[round(float(n)) for n in fit.n_risk])

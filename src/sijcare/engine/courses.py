"""Treatment courses: regenerative injection series, each kind on its own.

A series is a run of injections of one kind with no gap of more than `SERIES_GAP_DAYS`; a
longer gap starts a new series. Injections of one kind on one date are one session and count
once. Sides are not separated: one session may treat both sides.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from sijcare.model.case import Case

REGENERATIVE_KINDS = ("prolotherapy", "prp")
SERIES_GAP_DAYS = 70  # more than 10 weeks between injections ends a series (provisional)


class Series(NamedTuple):
    kind: str
    started: date
    last: date
    injections: int  # sessions (distinct dates) in the series
    active: bool  # `as_of` is at most SERIES_GAP_DAYS after `last`


def regenerative_series(case: Case) -> list[Series]:
    """Every regenerative series, ordered by kind (prolotherapy, prp), then by date."""
    found: list[Series] = []
    for kind in REGENERATIVE_KINDS:
        dates = sorted({p.date for p in case.procedures or [] if p.kind == kind})
        runs: list[list[date]] = []
        for day in dates:
            if runs and (day - runs[-1][-1]).days <= SERIES_GAP_DAYS:
                runs[-1].append(day)
            else:
                runs.append([day])
        found += [Series(kind, run[0], run[-1], len(run),
                         case.as_of <= run[-1] + timedelta(days=SERIES_GAP_DAYS))
                  for run in runs]
    return found

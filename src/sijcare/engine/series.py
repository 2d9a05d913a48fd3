"""Injection series: a run of regenerative injections with no gap longer than the knowledge
base's `series_gap_days`; a longer gap starts a new series, and a series whose last injection
is further back than that has ended. Injections on one date are one session and count once.
Sides are not separated: one session may treat both sides. Each kind's own series is shown;
limits, intervals and response read prolotherapy and PRP as one series (ENGINE-RULES v3).

Facts and courses both read series; neither is read here, so the engine has no import circle.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from sijcare.knowledge import Knowledge, load_knowledge
from sijcare.model.case import Case, Procedure


class Series(NamedTuple):
    kind: str  # a procedure kind, or `regenerative` for both kinds as one series
    started: date
    last: date
    injections: int  # sessions (distinct dates) in the series
    active: bool  # `as_of` is at most the series gap after `last`
    reliefs: tuple[float | None, ...] = ()  # each session's lowest recorded relief

    @property
    def first_relief(self) -> float | None:
        return self.reliefs[0] if self.reliefs else None


COMBINED = "regenerative"


def _series(kind: str, sessions: list[tuple[date, list[Procedure]]], as_of: date,
            gap: int) -> Series:
    lowest = []
    for _, given in sessions:
        reliefs = [p.relief_percent for p in given if p.relief_percent is not None]
        lowest.append(min(reliefs) if reliefs else None)
    last = sessions[-1][0]
    return Series(kind, sessions[0][0], last, len(sessions),
                  as_of <= last + timedelta(days=gap), tuple(lowest))


def _runs(kind: str, given: list[Procedure], as_of: date, gap: int) -> list[Series]:
    """Split injections into series wherever more than `gap` days pass between sessions."""
    if not given:
        return []
    by_day: dict[date, list[Procedure]] = {}
    for p in given:
        by_day.setdefault(p.date, []).append(p)
    found: list[Series] = []
    run: list[tuple[date, list[Procedure]]] = []
    for day in sorted(by_day):
        if run and (day - run[-1][0]).days > gap:
            found.append(_series(kind, run, as_of, gap))
            run = []
        run.append((day, by_day[day]))
    if run:
        found.append(_series(kind, run, as_of, gap))
    return found


def regenerative_series(case: Case, kb: Knowledge | None = None) -> list[Series]:
    """Each kind's own series, ordered by kind (prolotherapy, prp), then by date."""
    rule = (kb or load_knowledge()).courses.regenerative
    given = [p for p in case.procedures or [] if p.kind in rule.kinds]
    return [series for kind in rule.kinds
            for series in _runs(kind, [p for p in given if p.kind == kind], case.as_of,
                                rule.series_gap_days)]


def combined_series(case: Case, kb: Knowledge | None = None) -> list[Series]:
    """Prolotherapy and PRP as one series (ENGINE-RULES v3): a gap after either kind counts,
    and both kinds on one date are one injection with the lower relief."""
    rule = (kb or load_knowledge()).courses.regenerative
    given = [p for p in case.procedures or [] if p.kind in rule.kinds]
    return _runs(COMBINED, given, case.as_of, rule.series_gap_days)


def holding(series: list[Series], day: date) -> Series:
    """The series that holds the injection of `day`."""
    return next(s for s in series if s.started <= day <= s.last)


def current_series(series: list[Series]) -> list[Series]:
    """The series holding each kind's most recent injection (the last one listed per kind)."""
    return list({s.kind: s for s in series}.values())

"""Treatment courses: regenerative injection series and repeat ablation.

A series is a run of injections with no gap of more than the knowledge base's
`series_gap_days`; a longer gap starts a new series, and a series whose last injection is
further back than that has ended. Injections on one date are one session and count once.
Sides are not separated: one session may treat both sides. Each kind's own series is shown;
limits, intervals and response read prolotherapy and PRP as one series (ENGINE-RULES v3).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sijcare.engine.memo import shared
from sijcare.knowledge import Knowledge, load_knowledge
from sijcare.model.assessment import Alert, Courses, RegenerativeCourse, RfaCourse
from sijcare.model.case import Case, Procedure

if TYPE_CHECKING:  # facts builds on this module, not the other way round
    from sijcare.engine.facts import Facts

NO_COURSES = Courses()


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


# The latest ablation as the courses read it: (date, kind, side, relief %, relief weeks).
Ablation = tuple[date, str, str | None, float | None, float | None]


def latest_ablation(f: Facts) -> Ablation | None:
    """The most recent ablation (list order breaks a tie on the date)."""
    if not f.ablations:
        return None
    last = f.ablations[-1]
    return last.date, last.kind, last.side, last.relief_percent, last.relief_weeks


def courses(f: Facts) -> Courses:
    """`courses` of the Assessment: each kind's current series and the latest ablation."""
    current = tuple(current_series(f.regenerative_series))
    ablation = latest_ablation(f)
    if not current and ablation is None:
        return NO_COURSES
    together = tuple(holding(f.combined_series, s.last).injections for s in current)
    return _courses(f.kb, current, together, ablation)


@shared(maxsize=4096)
def _courses(kb: Knowledge, current: tuple[Series, ...], together: tuple[int, ...],
             ablation: Ablation | None) -> Courses:
    """`together`: for each kind's series, the injections of the combined series holding it."""
    rule = kb.courses
    soonest, latest = rule.regenerative.next_window_days
    regenerative = [
        RegenerativeCourse(kind=s.kind, series_started=s.started, injections=s.injections,
                           series_injections=both, last=s.last,
                           next_window=(s.last + timedelta(days=soonest),
                                        s.last + timedelta(days=latest)),
                           limit=rule.regenerative.limit, active=s.active)
        for s, both in zip(current, together, strict=True)
    ]
    if ablation is None:
        return Courses(regenerative=regenerative)
    day, kind, side, percent, weeks = ablation
    return Courses(regenerative=regenerative, rfa=RfaCourse(
        last=day, kind=kind, side=side, relief_percent=percent, relief_weeks=weeks,
        repeat_from=day + timedelta(days=rule.rfa.repeat_after_days)))


def _alert(kb: Knowledge, alert_id: str, detail: str) -> Alert:
    rule = kb.courses.alerts[alert_id]
    prefix = "Provisional rule: " if rule.provisional else ""
    return Alert(id=alert_id, severity=rule.severity, sources=rule.sources,
                 provisional=rule.provisional, detail=f"{prefix}{detail} {rule.text}")


def course_alerts(f: Facts) -> list[Alert]:
    """The four course alerts: series limit, interval, early non-response, ablation too soon."""
    series = f.combined_series[-1] if f.combined_series else None
    ablation = latest_ablation(f)
    if series is None and ablation is None:
        return []
    return list(_course_alerts(f.kb, f.case.as_of, series,
                               None if ablation is None else ablation[0]))


@shared(maxsize=4096)
def _course_alerts(kb: Knowledge, as_of: date, s: Series | None,
                   ablated: date | None) -> tuple[Alert, ...]:
    """Alerts on the regenerative series holding the latest injection (prolotherapy and PRP
    together) while it is active, and on the latest ablation."""
    rules = kb.courses
    found: list[Alert] = []
    if s is not None and s.active:
        days = (as_of - s.last).days
        opens = s.last + timedelta(days=rules.regenerative.next_window_days[0])
        if s.injections >= rules.regenerative.limit:
            found.append(_alert(kb, "regenerative_series_limit",
                                f"Regenerative series (prolotherapy and PRP together) since "
                                f"{s.started}: {s.injections} injections (limit "
                                f"{rules.regenerative.limit})."))
        if as_of < opens:
            found.append(_alert(kb, "regenerative_interval",
                                f"Last regenerative injection {days} days ago ({s.last}); the "
                                f"next is due from {opens}."))
        floor = rules.alerts["regenerative_early_nonresponse"].relief_below
        if s.first_relief is not None and floor is not None and s.first_relief < floor:
            found.append(_alert(kb, "regenerative_early_nonresponse",
                                f"{s.first_relief:g}% relief after the first injection of the "
                                f"series ({s.started}), below {floor:g}%."))
    if ablated is not None and (as_of - ablated).days < rules.rfa.repeat_after_days:
        found.append(_alert(kb, "rfa_too_soon", f"The last ablation ({ablated}) was "
                                                f"{(as_of - ablated).days} days ago."))
    return tuple(found)

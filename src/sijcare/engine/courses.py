"""Treatment courses: regenerative injection series, each kind on its own, and repeat ablation.

A series is a run of injections of one kind with no gap of more than the knowledge base's
`series_gap_days`; a longer gap starts a new series, and a series whose last injection is
further back than that has ended. Injections of one kind on one date are one session and count
once. Sides are not separated: one session may treat both sides.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sijcare.knowledge import Knowledge, load_knowledge
from sijcare.model.assessment import Alert, Courses, RegenerativeCourse, RfaCourse
from sijcare.model.case import Case, Procedure

if TYPE_CHECKING:  # facts builds on this module, not the other way round
    from sijcare.engine.facts import Facts

NO_COURSES = Courses()


class Series(NamedTuple):
    kind: str
    started: date
    last: date
    injections: int  # sessions (distinct dates) in the series
    active: bool  # `as_of` is at most the series gap after `last`
    first_relief: float | None = None  # lowest relief recorded at the first session


def _series(kind: str, sessions: list[tuple[date, list[Procedure]]], as_of: date,
            gap: int) -> Series:
    reliefs = [p.relief_percent for p in sessions[0][1] if p.relief_percent is not None]
    last = sessions[-1][0]
    return Series(kind, sessions[0][0], last, len(sessions),
                  as_of <= last + timedelta(days=gap), min(reliefs) if reliefs else None)


def regenerative_series(case: Case, kb: Knowledge | None = None) -> list[Series]:
    """Every regenerative series, ordered by kind (prolotherapy, prp), then by date."""
    rule = (kb or load_knowledge()).courses.regenerative
    found: list[Series] = []
    for kind in rule.kinds:
        by_day: dict[date, list[Procedure]] = {}
        for p in case.procedures or []:
            if p.kind == kind:
                by_day.setdefault(p.date, []).append(p)
        run: list[tuple[date, list[Procedure]]] = []
        for day in sorted(by_day):
            if run and (day - run[-1][0]).days > rule.series_gap_days:
                found.append(_series(kind, run, case.as_of, rule.series_gap_days))
                run = []
            run.append((day, by_day[day]))
        if run:
            found.append(_series(kind, run, case.as_of, rule.series_gap_days))
    return found


def current_series(series: list[Series]) -> list[Series]:
    """The series holding each kind's most recent injection (the last one listed per kind)."""
    return list({s.kind: s for s in series}.values())


def latest_ablation(f: Facts) -> Procedure | None:
    """The most recent ablation (list order breaks a tie on the date)."""
    return f.ablations[-1] if f.ablations else None


def courses(f: Facts) -> Courses:
    """`courses` of the Assessment: each kind's current series and the latest ablation."""
    current = current_series(f.regenerative_series)
    ablation = latest_ablation(f)
    if not current and ablation is None:
        return NO_COURSES
    rule = f.kb.courses
    soonest, latest = rule.regenerative.next_window_days
    regenerative = [
        RegenerativeCourse(kind=s.kind, series_started=s.started, injections=s.injections,
                           last=s.last, next_window=(s.last + timedelta(days=soonest),
                                                     s.last + timedelta(days=latest)),
                           limit=rule.regenerative.limit, active=s.active)
        for s in current
    ]
    rfa = None if ablation is None else RfaCourse(
        last=ablation.date, kind=ablation.kind, side=ablation.side,
        relief_percent=ablation.relief_percent, relief_weeks=ablation.relief_weeks,
        repeat_from=ablation.date + timedelta(days=rule.rfa.repeat_after_days))
    return Courses(regenerative=regenerative, rfa=rfa)


def _alert(f: Facts, alert_id: str, detail: str) -> Alert:
    rule = f.kb.courses.alerts[alert_id]
    prefix = "Provisional rule: " if rule.provisional else ""
    return Alert(id=alert_id, severity=rule.severity, sources=rule.sources,
                 provisional=rule.provisional, detail=f"{prefix}{detail} {rule.text}")


def course_alerts(f: Facts) -> list[Alert]:
    """The four course alerts: series limit, interval, early non-response, ablation too soon."""
    rules, as_of = f.kb.courses, f.case.as_of
    found: list[Alert] = []
    for s in current_series(f.regenerative_series):
        if not s.active:
            continue
        days = (as_of - s.last).days
        opens = s.last + timedelta(days=rules.regenerative.next_window_days[0])
        if s.injections >= rules.regenerative.limit:
            found.append(_alert(f, "regenerative_series_limit",
                                f"{s.kind} series since {s.started}: {s.injections} injections "
                                f"(limit {rules.regenerative.limit})."))
        if as_of < opens:
            found.append(_alert(f, "regenerative_interval",
                                f"Last {s.kind} injection {days} days ago ({s.last}); the next "
                                f"is due from {opens}."))
        floor = rules.alerts["regenerative_early_nonresponse"].relief_below
        if s.first_relief is not None and floor is not None and s.first_relief < floor:
            found.append(_alert(f, "regenerative_early_nonresponse",
                                f"{s.first_relief:g}% relief after the first {s.kind} injection "
                                f"of the series ({s.started}), below {floor:g}%."))
    ablation = latest_ablation(f)
    if ablation is not None:
        days = (as_of - ablation.date).days
        if days < rules.rfa.repeat_after_days:
            found.append(_alert(f, "rfa_too_soon",
                                f"The last ablation ({ablation.date}) was {days} days ago."))
    return found

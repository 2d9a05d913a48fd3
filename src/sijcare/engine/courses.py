"""Treatment courses: regenerative injection series (`engine.series`) and repeat ablation,
as the assessment shows them, with their alerts."""

from __future__ import annotations

from datetime import date, timedelta

from sijcare.engine.facts import Facts
from sijcare.engine.memo import shared
from sijcare.engine.series import Series, current_series, holding
from sijcare.knowledge import Knowledge
from sijcare.model.assessment import Alert, Courses, RegenerativeCourse, RfaCourse

NO_COURSES = Courses()


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

"""The follow-up schedule: when each outcome questionnaire is due, and whether it was done.

Treatment-start points (baseline, 3/6/12/24 months) hang on the earliest procedure of any kind;
every procedure session (one kind on one date) adds its own 2- and 6-week checks. Blocks are
diagnostic and get no schedule. The points, windows and instruments are knowledge-base data.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta
from typing import get_args

from sijcare.engine.facts import Facts, add_months
from sijcare.engine.memo import shared
from sijcare.knowledge import Knowledge
from sijcare.model.assessment import FollowUpPoint
from sijcare.model.case import Case, ProcedureKind

# Ties between sessions on one date (different kinds) follow the case format's order of kinds.
KIND_ORDER = {kind: i for i, kind in enumerate(get_args(ProcedureKind))}


@shared(maxsize=16384)
def _when(kb: Knowledge, order: int, day: date) -> tuple[date, tuple[date, date]]:
    """(due, inclusive window) of the schedule's point `order` hung on `day`."""
    rule = kb.follow_up.points[order]
    due = add_months(day, rule.months) if rule.months is not None else day
    due += timedelta(days=rule.days or 0)
    return due, (due - timedelta(days=rule.before_days), due + timedelta(days=rule.after_days))


@shared(maxsize=16384)
def _point(kb: Knowledge, order: int, day: date, kind: str | None, state: str) -> FollowUpPoint:
    """One schedule entry; entries alike across patients (same anchor, same status) are one."""
    rule = kb.follow_up.points[order]
    due, window = _when(kb, order, day)
    extra = {} if kind is None else {"procedure_date": day, "procedure_kind": kind}
    return FollowUpPoint(point=rule.point, anchor=rule.anchor, due=due, window=window,
                         instruments=rule.instruments, status=state, **extra)


def _taken(case: Case) -> dict[str, list[date]]:
    """Each instrument's entry dates, sorted, for window look-ups."""
    found: dict[str, list[date]] = {}
    for prom in case.proms or []:
        found.setdefault(prom.instrument, []).append(prom.date)
    return {instrument: sorted(days) for instrument, days in found.items()}


def _inside(days: list[date], start: date, end: date) -> bool:
    i = bisect_left(days, start)
    return i < len(days) and days[i] <= end


def status(window: tuple[date, date], instruments: list[str], taken: dict[str, list[date]],
           as_of: date) -> str:
    """`done` when every instrument has an entry inside the window, else where `as_of` falls."""
    start, end = window
    if all(_inside(taken.get(i, []), start, end) for i in instruments):
        return "done"
    if as_of < start:
        return "upcoming"
    return "due" if as_of <= end else "missed"


def follow_up(f: Facts) -> list[FollowUpPoint]:
    """`follow_up` of the Assessment, ordered by due date, table order, procedure date."""
    procedures = f.procedures
    if not procedures:
        return []
    kb, as_of, taken = f.kb, f.case.as_of, _taken(f.case)
    anchors = {"treatment_start": [(procedures[0].date, None)],
               "procedure": list(dict.fromkeys((p.date, p.kind) for p in procedures))}
    planned = []
    for order, rule in enumerate(kb.follow_up.points):
        for day, kind in anchors[rule.anchor]:
            due, window = _when(kb, order, day)
            point = _point(kb, order, day, kind, status(window, rule.instruments, taken, as_of))
            planned.append(((due, order, day if kind else date.min, KIND_ORDER.get(kind, -1)),
                            point))
    return [point for _, point in sorted(planned, key=lambda entry: entry[0])]

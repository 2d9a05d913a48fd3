"""Derived facts every rule shares: durations, windows, counted blocks, relief.

Each function answers from the case alone and returns `None` where the needed input was not
recorded, so callers can keep `unknown` distinct from `no`.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from sijcare.model.case import Block, Case, Procedure
from sijcare.numbers import exact, round_half_up

COUNTED_GUIDANCE = frozenset({"fluoroscopy", "ct", "ultrasound"})


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic; the 31st falls back to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def pain_lasted(case: Case, months: int, *, strictly: bool = False) -> bool | None:
    """Has the pain lasted at least (or, with `strictly`, more than) `months` calendar months?"""
    history = case.history
    if history and history.pain_onset:
        boundary = add_months(history.pain_onset, months)
        return boundary < case.as_of if strictly else boundary <= case.as_of
    if history and history.pain_duration_months is not None:
        lasted = history.pain_duration_months
        return lasted > months if strictly else lasted >= months
    return None


def pain_months_text(case: Case) -> str:
    history = case.history
    if history and history.pain_onset:
        return f"pain since {history.pain_onset}"
    if history and history.pain_duration_months is not None:
        return f"pain for {history.pain_duration_months:g} months"
    return "pain onset not recorded"


def red_flags(case: Case) -> list[str] | None:
    """The recorded red flags; `None` when the screen was not recorded."""
    return case.history.red_flags if case.history else None


def age_on(case: Case, day: date) -> float | None:
    """Age in whole years on `day` from the birth date, else from the recorded age."""
    patient = case.patient
    if patient.birth_date:
        before_birthday = (day.month, day.day) < (patient.birth_date.month, patient.birth_date.day)
        return day.year - patient.birth_date.year - before_birthday
    if patient.age is not None:
        return patient.age - (case.as_of - day).days / 365.25
    return None


def onset_date(case: Case) -> date | None:
    history = case.history
    if history and history.pain_onset:
        return history.pain_onset
    if history and history.pain_duration_months is not None:
        return case.as_of - timedelta(days=round(history.pain_duration_months * 30.4375))
    return None


def conservative_weeks(case: Case) -> float | None:
    """Weeks covered by the union of care courses (ongoing ones run to `as_of`)."""
    if case.conservative_care is None:
        return None
    spans = sorted(
        (course.start, min(course.end or case.as_of, case.as_of))
        for course in case.conservative_care
    )
    days, reach = 0, None
    for start, end in spans:
        if reach is not None and start < reach:
            start = reach
        if end > start:
            days += (end - start).days
            reach = end
    return days / 7


def in_window(case: Case, day: date, window_days: int) -> bool:
    """Rolling window: `as_of - window < day <= as_of`."""
    return case.as_of - timedelta(days=window_days) < day <= case.as_of


def counted_blocks(case: Case) -> list[Block]:
    """Image-guided blocks in date order (list order breaks ties)."""
    blocks = [b for b in case.blocks or [] if b.guidance in COUNTED_GUIDANCE]
    return sorted(blocks, key=lambda b: b.date)


def unguided_blocks(case: Case) -> list[Block]:
    return [b for b in case.blocks or [] if b.guidance not in COUNTED_GUIDANCE]


def latest_block(case: Case) -> Block | None:
    blocks = counted_blocks(case)
    return blocks[-1] if blocks else None


def relief_percent(block: Block) -> float:
    """(before - after) / before x 100, one decimal, rounded half up."""
    before, after = exact(block.pain_before), exact(block.pain_after)
    return round_half_up((before - after) / before * 100, 1)


def procedures_of(case: Case, kind: str | None = None) -> list[Procedure]:
    """Procedures in date order, optionally of one kind."""
    chosen = [p for p in case.procedures or [] if kind is None or p.kind == kind]
    return sorted(chosen, key=lambda p: p.date)


def relief_ongoing(procedure: Procedure, floor: float) -> bool:
    return (
        procedure.relief_percent is not None
        and procedure.relief_percent >= floor
        and procedure.relief_ongoing is True
    )


def positives(tests: dict[str, str | None]) -> tuple[int, int]:
    """(positive, performed) counts of a test -> result mapping."""
    done = [r for r in tests.values() if r is not None]
    return sum(r == "positive" for r in done), len(done)


def provocation(case: Case) -> dict[str, str | None]:
    """Every provocation test with its result, `None` when not performed."""
    exam = case.exam
    if exam is None or exam.provocation is None:
        return dict.fromkeys(("distraction", "thigh_thrust", "compression", "sacral_thrust",
                              "gaenslen_left", "gaenslen_right", "faber", "yeoman"))
    return exam.provocation.model_dump()


def combined_gaenslen(tests: dict[str, str | None]) -> str | None:
    """Gaenslen as one test: positive if either side is, performed if either side was."""
    sides = [tests.get("gaenslen_left"), tests.get("gaenslen_right")]
    if "positive" in sides:
        return "positive"
    return "negative" if "negative" in sides else None


def radicular_support(case: Case) -> list[str]:
    """Facts making up the radicular pattern (below the knee plus deficit or SLR), else []."""
    history, exam = case.history, case.exam
    if not (history and history.below_knee):
        return []
    signs = []
    if exam and exam.neuro_deficit:
        signs.append("neuro_deficit")
    if exam and exam.straight_leg_raise == "positive":
        signs.append("straight_leg_raise")
    return ["below_knee", *signs] if signs else []


def hip_pattern(case: Case) -> bool:
    return bool(case.exam and case.exam.hip_rotation_pain)

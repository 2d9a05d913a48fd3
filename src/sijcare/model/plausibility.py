"""What a case must be beyond its fields' types: facts that could all be true at once.

A date after `as_of` has not happened yet; a date before the birth date never happened; an
age that contradicts the birth date, a pregnant male patient and relief that lasted longer
than the time since its procedure are typing slips the engine would otherwise reason from
(ENGINE-RULES v2 and v3: invalid input).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the case model calls this module while it validates itself
    from sijcare.model.case import Case

Location = tuple[str | int, ...]
AGE_TOLERANCE_YEARS = 1  # a recorded age may lag the birth date by a birthday


def whole_years(born: date, day: date) -> int:
    """Age in completed years on `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def dated_events(case: Case) -> list[tuple[Location, date]]:
    """Every date the case records, with where it stands."""
    events: list[tuple[Location, date]] = []
    if case.patient.birth_date:
        events.append((("patient", "birth_date"), case.patient.birth_date))
    if case.history and case.history.pain_onset:
        events.append((("history", "pain_onset"), case.history.pain_onset))
    for field in ("imaging", "blocks", "procedures", "proms"):
        for i, item in enumerate(getattr(case, field) or []):
            events.append(((field, i, "date"), item.date))
    for i, course in enumerate(case.conservative_care or []):
        events.append((("conservative_care", i, "start"), course.start))
        if course.end is not None:
            events.append((("conservative_care", i, "end"), course.end))
    return events


def implausibilities(case: Case) -> list[tuple[Location, str]]:
    """`(location, problem)` for each fact that cannot be true together with the others."""
    found: list[tuple[Location, str]] = []
    born = case.patient.birth_date
    for where, when in dated_events(case):
        if when > case.as_of:
            found.append((where, f"{when} is after as_of {case.as_of}"))
        elif born is not None and when < born and where != ("patient", "birth_date"):
            found.append((where, f"{when} is before the birth date {born}"))
    patient = case.patient
    if born is not None and born <= case.as_of and patient.age is not None:
        computed = whole_years(born, case.as_of)
        if abs(patient.age - computed) > AGE_TOLERANCE_YEARS:
            found.append((("patient", "age"),
                          f"{patient.age} does not fit the birth date {born}, which gives "
                          f"{computed} on {case.as_of}"))
    if patient.pregnant is True and patient.sex == "male":
        found.append((("patient", "pregnant"), "is true for a patient recorded as male"))
    for i, procedure in enumerate(case.procedures or []):
        days = (case.as_of - procedure.date).days
        if (procedure.relief_weeks is not None and days >= 0
                and procedure.relief_weeks > days / 7 + 1):
            found.append((("procedures", i, "relief_weeks"),
                          f"{procedure.relief_weeks:g} weeks is longer than the {days} days "
                          f"since the procedure on {procedure.date}"))
    return found

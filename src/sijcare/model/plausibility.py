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


# The words of each problem, shared with the store, which refuses the same records with the
# same words before they can make a case invalid (store/consistency.py).
PREGNANT_MALE = "is true for a patient recorded as male"


def before_birth(when: date, born: date | None) -> str | None:
    """Why `when` cannot be a date in this patient's record, or None."""
    if born is not None and when < born:
        return f"{when} is before the birth date {born}"
    return None


def pregnant_male(pregnant: bool | None, sex: str | None) -> str | None:
    """Why a recorded pregnancy cannot stand beside the recorded sex, or None."""
    return PREGNANT_MALE if pregnant is True and sex == "male" else None


def relief_overrun(relief_weeks: float | None, done: date, day: date) -> str | None:
    """Why relief recorded on `day` cannot have lasted `relief_weeks` since the procedure on
    `done` (more than the time since, give or take a week), or None."""
    days = (day - done).days
    if relief_weeks is not None and days >= 0 and relief_weeks > days / 7 + 1:
        return (f"{relief_weeks:g} weeks is longer than the {days} days since the procedure "
                f"on {done}")
    return None


def implausibilities(case: Case) -> list[tuple[Location, str]]:
    """`(location, problem)` for each fact that cannot be true together with the others."""
    found: list[tuple[Location, str]] = []
    born = case.patient.birth_date
    for where, when in dated_events(case):
        if when > case.as_of:
            found.append((where, f"{when} is after as_of {case.as_of}"))
        elif where != ("patient", "birth_date") and (problem := before_birth(when, born)):
            found.append((where, problem))
    patient = case.patient
    if born is not None and born <= case.as_of and patient.age is not None:
        computed = whole_years(born, case.as_of)
        if abs(patient.age - computed) > AGE_TOLERANCE_YEARS:
            found.append((("patient", "age"),
                          f"{patient.age} does not fit the birth date {born}, which gives "
                          f"{computed} on {case.as_of}"))
    if problem := pregnant_male(patient.pregnant, patient.sex):
        found.append((("patient", "pregnant"), problem))
    for i, procedure in enumerate(case.procedures or []):
        if problem := relief_overrun(procedure.relief_weeks, procedure.date, case.as_of):
            found.append((("procedures", i, "relief_weeks"), problem))
    return found

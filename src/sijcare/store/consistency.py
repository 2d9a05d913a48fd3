"""What a record must be beside the patient's other facts: the engine's invalid inputs
(ENGINE-RULES v3), refused before they are stored, in the engine's own words.

The engine refuses a case with a date before the birth date, a pregnant male patient, or
relief that lasted longer than the time since its procedure (`model/plausibility.py`). A
record or correction that would make such a case would leave the episode unassessable from
then on, so the store asks the same questions of each write, with the same functions:

- every date of a record (and the day it was recorded) on or after the birth date;
- relief recorded with a procedure, or at a follow-up, no longer than the time from the
  procedure to the day it was recorded (`ProcedureKind`, `outcomes.procedure_problems`);
- an intake's pregnancy only for a patient not recorded as male (`IntakeKind`);
- a demographics correction that leaves every live record valid: no record dated before a
  corrected birth date, no live intake recording a pregnancy when the sex becomes male
  (records marked entered in error are not counted: marking the wrong one is the way out).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import Date, func, select
from sqlalchemy.orm import Session

from sijcare.labels import inline, label
from sijcare.model.plausibility import PREGNANT_MALE, before_birth
from sijcare.store.kinds import KINDS
from sijcare.store.models import Episode, IntakeRecord

Problem = tuple[str, str]


def born_after(dates: Mapping[str, dt.date], born: dt.date | None) -> list[Problem]:
    """`(field, problem)` for each of a record's dates before the birth date."""
    return [(name, problem) for name, when in dates.items()
            if (problem := before_birth(when, born))]


def _date_columns(kind: str) -> list[str]:
    table = KINDS[kind].row.__table__
    return [c.name for c in table.c if isinstance(c.type, Date) and c.name != "voided_on"]


def earliest_record(session: Session, patient_id: int) -> tuple[dt.date, str, str] | None:
    """(date, record kind, episode complaint) of the patient's earliest live record date."""
    found: list[tuple[dt.date, str, str]] = []
    for kind, spec in KINDS.items():
        row = spec.row
        for name in _date_columns(kind):
            column = getattr(row, name)
            first = session.execute(
                select(column, Episode.complaint).join(Episode, Episode.id == row.episode_id)
                .where(Episode.patient_id == patient_id, row.voided_on.is_(None),
                       column.is_not(None))
                .order_by(column).limit(1)).first()
            if first:
                found.append((first[0], kind, first[1]))
    return min(found, default=None)


def correction_problems(session: Session, patient_id: int, born: dt.date,
                        sex: str) -> list[Problem]:
    """What corrected demographics would make invalid among the patient's live records."""
    problems = []
    earliest = earliest_record(session, patient_id)
    if earliest and (problem := before_birth(earliest[0], born)):
        _, kind, complaint = earliest
        problems.append(("birth_date", f"{problem}: the {inline(kind)} record of that day "
                                       f"in the episode “{complaint}”"))
    if sex == "male" and (day := _pregnant_intake(session, patient_id)):
        problems.append(("sex", f"{label('pregnant')} {PREGNANT_MALE} in the history "
                                f"recorded on {day}; mark that record entered in error first "
                                "if the pregnancy was recorded by mistake"))
    return problems


def _pregnant_intake(session: Session, patient_id: int) -> dt.date | None:
    return session.scalar(
        select(func.min(IntakeRecord.recorded_on))
        .join(Episode, Episode.id == IntakeRecord.episode_id)
        .where(Episode.patient_id == patient_id, IntakeRecord.pregnant.is_(True),
               IntakeRecord.voided_on.is_(None)))


def first_problems(*groups: Iterable[Problem]) -> list[Problem]:
    """The problems of several checks, one per field (the first found), in order."""
    seen: dict[str, str] = {}
    for group in groups:
        for path, message in group:
            seen.setdefault(path, message)
    return list(seen.items())

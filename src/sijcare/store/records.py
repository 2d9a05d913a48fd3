"""Writing and listing the dated records of an episode.

Every write is validated in full by the kind's form before anything is added to the session,
so a half-valid form saves nothing. Functions flush but never commit: the caller's transaction
holds the record and its audit entry together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from sijcare.model.case import IsoDate
from sijcare.store.audit import record_event
from sijcare.store.consistency import Problem, born_after, first_problems
from sijcare.store.episode_records import TimelineEntry, load_episode_records
from sijcare.store.errors import NotFound, RecordError, problems_of
from sijcare.store.forms import NoneForm
from sijcare.store.kinds import KINDS, Kind
from sijcare.store.models import Episode, NoneRecord, RecordRow
from sijcare.store.plausible import (
    CONTROL_PROBLEM,
    control_characters,
    date_problem,
    implausible,
)
from sijcare.store.users import require_member

RECORD_KINDS: tuple[str, ...] = tuple(KINDS)
# A record's own dates (every kind keeps them at the top level); the event dates among them
# cannot lie after the day the record was entered (a course may end later).
_DATES = ("date", "start", "end", "pain_onset")
_NOT_AFTER_RECORDING = ("date", "start", "pain_onset")
_RECORDED_ON = TypeAdapter(IsoDate)


def _kind(name: str) -> Kind:
    if name not in KINDS:
        raise RecordError([("kind", f"unknown record kind '{name}'; one of: "
                                    f"{', '.join(RECORD_KINDS)}")])
    return KINDS[name]


def valid_form(kind: Kind, data: object, today: dt.date) -> Any:
    """The kind's form from plain data (`{"none": true}` for a list kind), or RecordError.

    Strict: a date is a `YYYY-MM-DD` string (or a date), a yes/no is true or false, never
    `0`, `1` or `"yes"`."""
    if not isinstance(data, dict):
        raise RecordError([("", "expected a mapping of fields")])
    model = NoneForm if kind.case_field and "none" in data else kind.form
    try:
        form = model.model_validate(data, strict=True)
    except ValidationError as error:
        raise RecordError(problems_of(error)) from None
    if problems := implausible(form, today):
        raise RecordError(problems)
    return form


def _dates(data: object) -> dict[str, dt.date]:
    """The record's own dates that can be read (even if the rest of it is invalid)."""
    found = {}
    for name in _DATES:
        try:
            value = _RECORDED_ON.validate_python(data.get(name)) if isinstance(data, dict) else None
        except ValidationError:
            continue  # an unreadable date is the form's to report
        if value is not None:
            found[name] = value
    return found


def _late(dates: dict[str, dt.date], entered: dt.date) -> list[tuple[str, str]]:
    """Event dates after the day the record was recorded."""
    return [(name, f"{value} is after the day it was recorded ({entered})")
            for name, value in dates.items() if name in _NOT_AFTER_RECORDING and value > entered]


def _entered(recorded_on: dt.date | str, today: dt.date) -> tuple[dt.date, list[Problem]]:
    """The day of entry and its problems; an unusable day stands in as `today`, so that the
    record's own problems are still found and reported with it."""
    try:
        entered = _RECORDED_ON.validate_python(recorded_on, strict=True)
    except ValidationError as error:
        return today, [("recorded_on", problems_of(error)[0][1])]
    if problem := date_problem(entered, today):
        return today, [("recorded_on", problem)]
    return entered, []


def add_record(session: Session, episode_id: int, kind: str, data: dict[str, Any],
               actor_id: int, recorded_on: dt.date | str, *,
               today: dt.date | None = None) -> RecordRow:
    """Validate `data` as a `kind` record and add it to the episode; raise RecordError if invalid.

    `recorded_on` is the day it was entered; it dates intake, exam and medications records,
    while imaging, blocks, procedures, PROMs and care courses carry their own date (never after
    `recorded_on`). The case as of a day holds only records recorded on or before that day.
    No date may lie after `today` (default: the real today) or before 1900.
    """
    row, clinic_id = checked_row(session, episode_id, kind, data, actor_id, recorded_on,
                                 today=today)
    session.add(row)
    session.flush()
    record_event(session, actor_id, "create", kind, row.id, clinic_id,
                 {"episode_id": episode_id})
    return row


def checked_row(session: Session, episode_id: int, kind: str, data: dict[str, Any],
                actor_id: int, recorded_on: dt.date | str, *,
                today: dt.date | None = None,
                member_of: int | None = None) -> tuple[RecordRow, int]:
    """The record `add_record` would add (not yet in the session) and its clinic's id, once
    every check has passed; RecordError or NotFound as `add_record`. `member_of`: the clinic
    the caller has already found the actor a member of (an import checks it once per
    patient, not once per record)."""
    spec, today = _kind(kind), today or dt.date.today()
    entered, day_problems = _entered(recorded_on, today)
    episode = session.get(Episode, episode_id)
    dates = _dates(data)
    # the dates' problems (the day of entry's too) are known before the form is read, so they
    # show with its own: a form is answered with every problem at once, never in rounds
    dated = (_late(dates, entered) if not day_problems else []) + born_after(
        {**dates, "recorded_on": entered}, episode.patient.birth_date if episode else None)
    try:
        form = valid_form(spec, data, today)
    except RecordError as error:
        raise RecordError(first_problems(day_problems, error.problems, dated)) from None
    if episode is None:
        raise NotFound(f"no episode {episode_id}")
    if episode.patient.clinic_id != member_of:
        require_member(session, actor_id, episode.patient.clinic_id)
    if problems := first_problems(day_problems, dated, spec.problems(
            session, episode_id, form, entered) if isinstance(form, spec.form) else ()):
        raise RecordError(problems)
    common = {"episode_id": episode_id, "recorded_on": entered, "recorded_by": actor_id}
    row = (NoneRecord(kind=kind, **common) if isinstance(form, NoneForm)
           else spec.build(form, **common))
    return row, episode.patient.clinic_id


VOIDABLE_KINDS: tuple[str, ...] = (*RECORD_KINDS, "none")  # "none": a confirmed-none record
VOID_REASON_MAX = 200


def void_record(session: Session, episode_id: int, kind: str, record_id: int, actor_id: int,
                reason: str, voided_on: dt.date) -> RecordRow:
    """Mark a record of the episode "entered in error" (FHIR `entered-in-error`) as of `voided_on`.

    Nothing is deleted: the case of any day before `voided_on` still holds the record (what was
    known then), from `voided_on` on it is left out, and the timeline shows it marked. `kind`
    is a record kind, or "none" for a confirmed-none record. RecordError for a missing reason,
    an unknown kind, a record voided already or a day before it was recorded; NotFound when
    the episode has no such record.
    """
    if kind not in VOIDABLE_KINDS:
        raise RecordError([("kind", f"unknown record kind '{kind}'; one of: "
                                    f"{', '.join(VOIDABLE_KINDS)}")])
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise RecordError([("reason", "say why this record was entered in error")])
    if len(reason) > VOID_REASON_MAX:
        raise RecordError([("reason", f"at most {VOID_REASON_MAX} characters")])
    if control_characters(reason):
        raise RecordError([("reason", CONTROL_PROBLEM)])
    table = NoneRecord if kind == "none" else KINDS[kind].row
    row = session.get(table, record_id)
    if row is None or row.episode_id != episode_id:
        raise NotFound(f"no {kind} record {record_id} in episode {episode_id}")
    if row.voided_on is not None:
        raise RecordError([("", f"this record was already marked entered in error on "
                                f"{row.voided_on}")])
    if voided_on < row.recorded_on:
        raise RecordError([("voided_on", f"{voided_on} is before the day the record was "
                                         f"recorded ({row.recorded_on})")])
    episode = session.get(Episode, episode_id)
    assert episode is not None  # the record's own episode
    clinic_id = episode.patient.clinic_id
    require_member(session, actor_id, clinic_id)
    row.voided_on, row.voided_by, row.void_reason = voided_on, actor_id, reason
    session.flush()
    record_event(session, actor_id, "void", kind, row.id, clinic_id,
                 {"episode_id": episode_id, "voided_on": voided_on.isoformat()})
    return row


def list_timeline(session: Session, episode_id: int) -> list[TimelineEntry]:
    """Every record of the episode, newest first (by its date, then by entry)."""
    return load_episode_records(session, episode_id).timeline()

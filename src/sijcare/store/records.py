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
from sijcare.store.episode_records import TimelineEntry, load_episode_records
from sijcare.store.errors import NotFound, RecordError, problems_of
from sijcare.store.forms import NoneForm
from sijcare.store.kinds import KINDS, Kind
from sijcare.store.models import Episode, NoneRecord, RecordRow
from sijcare.store.users import require_member

RECORD_KINDS: tuple[str, ...] = tuple(KINDS)
# Event dates that cannot lie after the day the record was entered (a course may end later).
_NOT_AFTER_RECORDING = ("date", "start", "pain_onset")
_RECORDED_ON = TypeAdapter(IsoDate)


def _kind(name: str) -> Kind:
    if name not in KINDS:
        raise RecordError([("kind", f"unknown record kind '{name}'; one of: "
                                    f"{', '.join(RECORD_KINDS)}")])
    return KINDS[name]


def _validate(kind: Kind, data: object) -> Any:
    """The kind's form from plain data (`{"none": true}` for a list kind), or RecordError."""
    if not isinstance(data, dict):
        raise RecordError([("", "expected a mapping of fields")])
    model = NoneForm if kind.case_field and "none" in data else kind.form
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RecordError(problems_of(error)) from None


def add_record(session: Session, episode_id: int, kind: str, data: dict[str, Any],
               actor_id: int, recorded_on: dt.date | str) -> RecordRow:
    """Validate `data` as a `kind` record and add it to the episode; raise RecordError if invalid.

    `recorded_on` is the day it was entered; it dates intake, exam and medications records,
    while imaging, blocks, procedures, PROMs and care courses carry their own date (never after
    `recorded_on`). The case as of a day holds only records recorded on or before that day.
    """
    spec = _kind(kind)
    try:
        entered = _RECORDED_ON.validate_python(recorded_on)
    except ValidationError as error:
        raise RecordError([("recorded_on", problems_of(error)[0][1])]) from None
    form = _validate(spec, data)
    late = [(name, f"{value} is after the day it was recorded ({entered})")
            for name in _NOT_AFTER_RECORDING
            if isinstance(value := getattr(form, name, None), dt.date) and value > entered]
    if late:
        raise RecordError(late)
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id}")
    require_member(session, actor_id, episode.patient.clinic_id)
    common = {"episode_id": episode_id, "recorded_on": entered, "recorded_by": actor_id}
    row = (NoneRecord(kind=kind, **common) if isinstance(form, NoneForm)
           else spec.build(form, **common))
    session.add(row)
    session.flush()
    record_event(session, actor_id, "create", kind, row.id, episode.patient.clinic_id,
                 {"episode_id": episode_id})
    return row


def list_timeline(session: Session, episode_id: int) -> list[TimelineEntry]:
    """Every record of the episode, newest first (by its date, then by entry)."""
    return load_episode_records(session, episode_id).timeline()

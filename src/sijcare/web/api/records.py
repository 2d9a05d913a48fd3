"""An episode's records: the timeline, adding one record of a kind, marking one entered in error."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException

from sijcare.store import (
    RECORD_KINDS,
    VOIDABLE_KINDS,
    Episode,
    NoneRecord,
    NotFound,
    RecordError,
    TimelineEntry,
    add_record,
    list_timeline,
    void_record,
)
from sijcare.web.api.idempotency import Idempotent
from sijcare.web.api.schemas import RecordIn, RecordOut, TimelineEntryOut, VoidIn, VoidOut
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Permission
from sijcare.web.auth.scope import RowId, episode_scope
from sijcare.web.deps import CurrentActor, DbSession
from sijcare.web.problems import unprocessable, unprocessable_record

router = APIRouter(prefix="/api/v1/episodes", tags=["records"])
Reading = Annotated[Episode, Depends(episode_scope(Permission.clinical_read))]
Writing = Annotated[Episode, Depends(episode_scope(Permission.clinical_write))]
RecordKind = Literal[RECORD_KINDS]  # type: ignore[valid-type]
VoidableKind = Literal[VOIDABLE_KINDS]  # type: ignore[valid-type]


@router.get("/{episode_id}/records", response_model=list[TimelineEntryOut])
def timeline(db: DbSession, episode: Reading) -> list[TimelineEntry]:
    """Everything recorded in the episode, newest first."""
    return list_timeline(db, episode.id)


@router.post("/{episode_id}/records/{kind}", response_model=RecordOut, status_code=201)
def add(db: DbSession, actor: CurrentActor, episode: Writing, note: Audited, kind: RecordKind,
        body: RecordIn, write: Idempotent) -> RecordOut:
    """Add one record; 422 with the path of each bad field, and nothing saved."""
    try:
        row = add_record(db, episode.id, kind, body.data, actor.id, body.recorded_on)
    except RecordError as error:
        raise unprocessable_record(error.problems) from None
    note.detail.update(kind=kind, record_id=row.id)
    # a confirmed none is a row of its own table: its id means nothing as a `kind` record's
    return write.answer(RecordOut(kind="none" if isinstance(row, NoneRecord) else kind,
                                  id=row.id))


@router.post("/{episode_id}/records/{kind}/{record_id}/void", response_model=VoidOut,
             responses={404: {"description": "The episode has no such record."}})
def void(db: DbSession, actor: CurrentActor, episode: Writing, note: Audited,
         kind: VoidableKind, record_id: RowId, body: VoidIn, write: Idempotent) -> VoidOut:
    """Mark a record "entered in error" from today on (`kind` "none" for a confirmed-none
    record): it stays on the timeline, marked, and leaves the case from today; the case of an
    earlier day is unchanged. 422 if already marked or the reason is missing."""
    note.detail.update(kind=kind, record_id=record_id)
    try:
        row = void_record(db, episode.id, kind, record_id, actor.id, body.reason, date.today())
    except NotFound:
        raise HTTPException(404, "No such record in this episode.") from None
    except RecordError as error:
        raise unprocessable(error.problems, "body") from None
    return write.answer(VoidOut(kind=kind, id=row.id, voided_on=row.voided_on,
                                void_reason=row.void_reason))

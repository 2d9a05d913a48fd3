"""An episode's records: the timeline, and adding one record of a kind."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from sijcare.store import (
    RECORD_KINDS,
    Episode,
    RecordError,
    TimelineEntry,
    add_record,
    list_timeline,
)
from sijcare.web.access import Permission
from sijcare.web.api.problems import unprocessable
from sijcare.web.api.schemas import RecordIn, RecordOut
from sijcare.web.audit import Audited
from sijcare.web.deps import CurrentActor, DbSession
from sijcare.web.scope import episode_scope

router = APIRouter(prefix="/api/v1/episodes", tags=["records"])
Reading = Annotated[Episode, Depends(episode_scope(Permission.clinical_read))]
Writing = Annotated[Episode, Depends(episode_scope(Permission.clinical_write))]
RecordKind = Literal[RECORD_KINDS]  # type: ignore[valid-type]


@router.get("/{episode_id}/records", response_model=list[TimelineEntry])
def timeline(db: DbSession, episode: Reading) -> list[TimelineEntry]:
    """Everything recorded in the episode, newest first."""
    return list_timeline(db, episode.id)


@router.post("/{episode_id}/records/{kind}", response_model=RecordOut, status_code=201)
def add(db: DbSession, actor: CurrentActor, episode: Writing, note: Audited, kind: RecordKind,
        body: RecordIn) -> RecordOut:
    """Add one record; 422 with the path of each bad field, and nothing saved."""
    try:
        row = add_record(db, episode.id, kind, body.data, actor.id, body.recorded_on)
    except RecordError as error:
        raise unprocessable(error.problems, "body", "data") from None
    note.detail.update(kind=kind, record_id=row.id)
    return RecordOut(kind=kind, id=row.id)

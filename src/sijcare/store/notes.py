"""Free-text clinical notes on an episode's timeline: kept as typed, never read by the engine."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.errors import NotFound, RecordError
from sijcare.store.models import Episode, EpisodeNote
from sijcare.store.plausible import CONTROL_IN_TEXT_PROBLEM, control_characters, text_lines
from sijcare.store.users import require_member

NOTE_MAX = 4000


def add_note(session: Session, episode_id: int, text: str, actor_id: int,
             recorded_on: dt.date) -> EpisodeNote:
    """A note by `actor_id` on the episode's timeline, audited; RecordError if empty, long
    or holding control characters other than line breaks and tabs."""
    text = text_lines(text).strip() if isinstance(text, str) else ""
    if not text:
        raise RecordError([("text", "write the note (it is empty)")])
    if len(text) > NOTE_MAX:
        raise RecordError([("text", f"at most {NOTE_MAX} characters (this note has "
                                    f"{len(text)})")])
    if control_characters(text, lines=True):
        raise RecordError([("text", CONTROL_IN_TEXT_PROBLEM)])
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"no episode {episode_id}")
    require_member(session, actor_id, episode.patient.clinic_id)
    note = EpisodeNote(episode_id=episode_id, recorded_on=recorded_on, recorded_by=actor_id,
                       text=text)
    session.add(note)
    session.flush()
    record_event(session, actor_id, "create", "note", note.id, episode.patient.clinic_id,
                 {"episode_id": episode_id})
    return note

"""Build the engine's `Case` for an episode as it stood on a given day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from sijcare.model.case import Case
from sijcare.store.episode_records import load_episode_records


def case_as_of(session: Session, episode_id: int, as_of: dt.date) -> Case:
    """The `Case` of the episode as known on `as_of`: only records recorded on or before
    `as_of` (and dated on or before it); the rules are `EpisodeRecords.case_as_of`'s. Raises
    NotFound, or ValueError before the birth date."""
    return load_episode_records(session, episode_id).case_as_of(as_of)

"""One read of an episode's records gives the same timeline and cases as reading them apart,
in a bounded number of statements however many records and child rows the episode holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from sijcare.store import (
    EpisodeRecords,
    NotFound,
    case_as_of,
    get_episode,
    list_timeline,
    load_demo,
    load_episode_records,
    session_factory,
)
from sijcare.store.kinds import KINDS
from tests.store.helpers import TODAY

DAY = dt.timedelta(days=1)


@pytest.fixture
def demo_episodes(session: Session) -> list[int]:
    """The eight demo episodes, one per stage of the pathway (committed)."""
    episodes = [patient.episodes[0].id for patient in load_demo(session, today=TODAY)]
    session.commit()
    return episodes


def days_to_check(records: EpisodeRecords) -> list[dt.date]:
    """Today, every day a record describes, and the day before each (both edges of a change)."""
    dates = {entry.date for entry in records.timeline()}
    return sorted({TODAY} | dates | {date - DAY for date in dates})


def test_one_read_gives_the_timeline_and_the_case_of_every_day(
        engine: Engine, session: Session, demo_episodes: list[int]) -> None:
    """Read in a session closed before use (so nothing can load lazily later), each snapshot
    matches `list_timeline` and `case_as_of` read afresh, on both sides of every record's day."""
    with session_factory(engine)() as once:
        snapshots = [load_episode_records(once, episode_id) for episode_id in demo_episodes]
    for records in snapshots:
        assert records.timeline() == list_timeline(session, records.episode_id)
        for day in days_to_check(records):
            assert records.case_as_of(day) == case_as_of(session, records.episode_id, day), day


def test_before_birth_and_unknown_episodes_fail_as_before(session: Session,
                                                          demo_episodes: list[int]) -> None:
    records = load_episode_records(session, demo_episodes[0])
    with pytest.raises(ValueError, match="before the patient's birth date"):
        records.case_as_of(dt.date(1900, 1, 1))
    missing = load_episode_records(session, 10**9)
    assert missing.timeline() == [] == list_timeline(session, 10**9)
    with pytest.raises(NotFound, match="no episode"):
        missing.case_as_of(TODAY)


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` inside the block (transaction control left out)."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_an_episode_page_reads_each_table_once(engine: Engine,
                                               demo_episodes: list[int]) -> None:
    """The page's data (episode, patient, timeline, the case) in one statement for the episode
    and its patient and one per record table: child rows (diary, tests, ODI answers) and
    repeated kinds (two PROM dates) add none, so an N+1 regression fails here."""
    busiest = demo_episodes[4]  # injected: every kind, children, PROMs (2 by link), an outcome
    with session_factory(engine)() as session, counted(engine) as statements:
        episode = get_episode(session, busiest)
        assert episode is not None and episode.patient.birth_date
        records = load_episode_records(session, busiest)
        timeline, case = records.timeline(), records.case_as_of(TODAY)
    assert len(timeline) == 14 and case.exam and case.blocks and len(case.proms or []) == 6
    # the episode, each record table, the confirmed nones, the notes, the patients'
    # comments, the authors' names, the imported records awaiting review
    assert len(statements) <= 1 + len(KINDS) + 5, "\n".join(statements)

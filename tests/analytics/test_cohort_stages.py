"""A synthetic cohort's stages at treatment, read off the drawing, are the engine's."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.analytics.cohort import store_cohort
from sijcare.store import load_episode_records
from sijcare.store.models import Episode, ProcedureRecord
from sijcare.store.treatment_stages import episode_stages
from tests.analytics.conftest import TODAY
from tests.store.helpers import fresh_database, migrated


def test_drawn_stages_are_the_engines(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        engine = migrated(url)
        with Session(engine) as session:
            store_cohort(session, 150, seed=5, today=TODAY, batch=60)
            session.commit()
            stored = dict(session.execute(
                select(ProcedureRecord.id, ProcedureRecord.stage_at_treatment)).all())
            derived = {}
            for episode_id in session.scalars(select(Episode.id)):
                derived |= episode_stages(load_episode_records(session, episode_id))
        engine.dispose()
    assert len(stored) > 150 and None not in stored.values()
    assert stored == derived
    assert set(stored.values()) >= {"interventional_treatment", "diagnostic_block",
                                    "evaluate_other_source"}  # every rule of the drawing ran

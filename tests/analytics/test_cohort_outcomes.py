"""Synthetic cohorts record procedure outcomes the way a clinic does: tied to a procedure of the
same episode, dated in a follow-up window after it, relief and PGIC telling the same story."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sijcare.analytics.cohort import draw_episodes
from sijcare.analytics.knowledge import load_registry
from sijcare.analytics.registry import registry_figures
from sijcare.analytics.tables import database_tables
from sijcare.store.models import ProcedureOutcome, ProcedureRecord, PromRecord
from tests.analytics.conftest import TODAY


def test_outcomes_follow_a_procedure_of_their_episode_within_a_window(
        cohort_sqlite: Engine) -> None:
    windows = [(p.days - p.before, p.days + p.after) for p in load_registry().points]
    with Session(cohort_sqlite) as session:
        rows = session.execute(select(ProcedureOutcome, ProcedureRecord).join(
            ProcedureRecord, ProcedureRecord.id == ProcedureOutcome.procedure_id)).all()
        procedures = session.scalar(select(func.count()).select_from(ProcedureRecord))
    assert len(rows) > procedures / 2  # about half the answered points, several per procedure
    for outcome, procedure in rows:
        assert outcome.episode_id == procedure.episode_id
        days = (outcome.date - procedure.date).days
        assert any(low <= days <= high for low, high in windows), days
        assert outcome.date <= TODAY
        assert 0 <= outcome.relief_percent <= 100
        # a relieved patient (>= 50 %) calls themselves much improved, and only then
        assert (outcome.relief_percent >= 50) == (outcome.pgic <= 2)


def test_a_point_with_an_outcome_record_asks_pgic_there_not_again_as_a_questionnaire(
        cohort_sqlite: Engine) -> None:
    with Session(cohort_sqlite) as session:
        outcome_days = set(session.execute(select(
            ProcedureOutcome.episode_id, ProcedureOutcome.date)).all())
        pgic_days = set(session.execute(select(PromRecord.episode_id, PromRecord.date)
                                        .where(PromRecord.instrument == "pgic")).all())
    assert outcome_days and pgic_days
    assert not outcome_days & pgic_days


def test_every_drawn_outcome_names_an_earlier_procedure_of_the_draw() -> None:
    for draw in draw_episodes(300, seed=5, today=dt.date(2026, 11, 1)):
        procedures = [data for kind, data, _ in draw.records if kind == "procedure"]
        for kind, data, _ in draw.records:
            if kind == "procedure_outcome":
                assert data["date"] > procedures[data["procedure"]]["date"]


def test_prolotherapy_relief_lasts_no_longer_than_either_ablation(cohort_sqlite: Engine) -> None:
    """The demo registry never shows a weakly supported treatment outlasting the ablations: the
    cohort draws prolotherapy from the less favourable of its studies (see registry.yaml)."""
    with cohort_sqlite.connect() as connection:
        figures = registry_figures(connection, database_tables(), as_of=TODAY)
    median = {kind: t.durability.median for kind, t in figures.treatments.items()
              if t.durability}
    assert median["prolotherapy"] is not None
    for ablation in ("rfa_conventional", "rfa_cooled"):
        assert median[ablation] is not None
        assert median["prolotherapy"] <= median[ablation], (ablation, median)

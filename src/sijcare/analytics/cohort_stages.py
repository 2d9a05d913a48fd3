"""The stage at treatment of a drawn episode's procedures, read off the drawing itself.

Deriving it through the store (`treatment_stages.refresh_stages`: read the episode, build its
case, run the engine) took 10.8 s for 2,000 drawn patients that took 2.1 s to store, so
`sijcare demo-data --patients 100000` would spend nine more minutes on it. The drawing is
narrow: no red flags, a complete examination, six weeks of care (above every policy's
minimum, under the surgical one), one image-guided block on the complaint's side before any
procedure, relief recorded as a percentage only (never as ongoing, so never maintenance), and
patients without a payer (the default policy). On such an episode the engine's stage is
decided by how it reads the block and, since ENGINE-RULES v3 (stage 6), by the provocation
cluster: a negative cluster beside one confirming block is a disagreement that a second block
settles, so the stage stays `diagnostic_block`. Both are read with the engine's own functions;
tests/analytics/test_cohort_stages.py checks that against the engine.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from sijcare.engine import DEFAULT_POLICY
from sijcare.engine.blocks import block_result
from sijcare.engine.facts import Facts, relief_percent
from sijcare.engine.likelihood import cluster
from sijcare.knowledge import Knowledge, load_knowledge
from sijcare.model.case import Case
from sijcare.model.case import Patient as CasePatient
from sijcare.store.forms import BlockForm, ExamForm

BLOCK_STAGES = {"confirmed": "interventional_treatment", "equivocal": "diagnostic_block",
                "negative": "evaluate_other_source"}  # choose_stage, for a drawn episode


def drawn_stage(records: list[tuple[str, dict[str, Any], dt.date]]) -> str | None:
    """The stage at treatment of every procedure of a drawn episode (None: it has no block,
    so no procedure either)."""
    block = next((data for kind, data, _ in records if kind == "block"), None)
    if block is None:
        return None
    kb = load_knowledge()
    relief = relief_percent(BlockForm.model_validate(block).engine())
    stage = BLOCK_STAGES[block_result(relief, kb.policies[DEFAULT_POLICY].block_threshold,
                                      kb.pathway.block_equivocal_floor)]
    if stage == "interventional_treatment" and _cluster_of(records, kb) == "negative":
        return "diagnostic_block"  # v3 stage 6: one confirming block against the exam
    return stage


def _cluster_of(records: list[tuple[str, dict[str, Any], dt.date]], kb: Knowledge) -> str:
    """The drawn examination's provocation cluster, as the engine reads it."""
    exam = next(data for kind, data, _ in records if kind == "exam")
    return _cluster_result(tuple(sorted(exam["provocation"].items())), kb)


@lru_cache(maxsize=1024)  # a drawing has 2^8 examinations: each is read once
def _cluster_result(provocation: tuple[tuple[str, str], ...], kb: Knowledge) -> str:
    case = Case(as_of=dt.date.today(), patient=CasePatient(id="drawn"),
                exam=ExamForm.model_validate({"provocation": dict(provocation)}).engine())
    return cluster(Facts(case, kb)).result

"""The pure clinical engine: `assess(case, policy, prior) -> Assessment`.

Small functions, one concern each, composed here. No I/O: the same case and knowledge always
give the same assessment.
"""

from __future__ import annotations

from sijcare.engine.alerts import alerts
from sijcare.engine.blocks import interpret_block
from sijcare.engine.courses import courses
from sijcare.engine.differential import differential
from sijcare.engine.eligibility import eligibility
from sijcare.engine.facts import Facts
from sijcare.engine.follow_up import follow_up
from sijcare.engine.likelihood import likelihood
from sijcare.engine.outcomes import outcomes
from sijcare.engine.pattern import pain_pattern
from sijcare.engine.screening import red_flags, referrals
from sijcare.engine.stage import choose_stage, stage_reasons
from sijcare.knowledge import Knowledge, load_knowledge
from sijcare.model.assessment import Assessment
from sijcare.model.case import Case

DEFAULT_POLICY = "medicare"


class UnknownPolicyError(ValueError):
    """The policy id names no profile in the knowledge base."""


def assess(case: Case, policy: str = DEFAULT_POLICY, prior: float | None = None,
           knowledge: Knowledge | None = None) -> Assessment:
    """Assess one case under one policy; `prior` overrides the policy's pre-test probability."""
    kb = knowledge or load_knowledge()
    if policy not in kb.policies:
        raise UnknownPolicyError(
            f"unknown policy '{policy}'; choose one of: {', '.join(sorted(kb.policies))}")
    profile = kb.policies[policy]
    if prior is not None and not 0 < prior < 1:
        raise ValueError(f"prior must be a probability strictly between 0 and 1, got {prior}")
    f = Facts(case, kb)
    reviewed = Facts(case.reviewed, kb) if case.reviewed else None  # what may open an option
    chance = likelihood(f, profile.prior if prior is None else prior)
    block = interpret_block(f, profile)
    stage_id, why = choose_stage(f, profile, chance.cluster, block, reviewed)
    options = eligibility(f, profile, reviewed)
    stage_why = stage_reasons(kb, stage_id, why, profile, f, options)
    return Assessment(
        knowledge_version=kb.version,
        policy=profile.id,
        as_of=case.as_of,
        patient_id=case.patient.id,
        stage=stage_id,
        stage_reasons=stage_why,
        red_flags=red_flags(f),
        sij_likelihood=chance,
        pain_pattern=pain_pattern(f),
        block=block,
        differential=differential(f),
        referrals=referrals(f),
        eligibility=options,
        alerts=alerts(f),
        outcomes=outcomes(f),
        reasons=[*stage_why, *chance.reasons, *block.reasons],
        disclaimer=kb.disclaimer,
        courses=courses(f),
        follow_up=follow_up(f),
        unreviewed=case.unreviewed or [],
    )

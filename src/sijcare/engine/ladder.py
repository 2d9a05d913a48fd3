"""The treatment ladder below fusion: the rungs a policy covers and how each went.

A rung counts as *tried* only through an image-guided procedure of its kinds since this pain
began; earlier or unguided procedures still count for every safety rule, but they say nothing
about this episode's response (ENGINE-RULES v3, "rung failed" and "ladder failed").
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from sijcare.engine.facts import Facts, last_session
from sijcare.knowledge import Policy
from sijcare.model.case import Procedure

Outcome = Literal["untried", "failed", "lasted", "unknown"]


class RungOutcome(NamedTuple):
    option: str  # the rung's option id
    outcome: Outcome
    latest: Procedure | None  # its most recent guided procedure since onset


def outcome(procedure: Procedure | None, percent: float, weeks: float) -> Outcome:
    """Failed below `percent`, or at it for under `weeks` with relief over; unknown without
    a relief figure, or with enough relief whose duration was never recorded."""
    if procedure is None:
        return "untried"
    shown, lasted = procedure.relief_percent, procedure.relief_weeks
    if shown is None:
        return "unknown"
    if shown < percent:
        return "failed"
    if procedure.relief_ongoing is True or (lasted is not None and lasted >= weeks):
        return "lasted"
    return "unknown" if lasted is None else "failed"


# A session's entries read cautiously: one that lasted or is unknown keeps the rung from
# having failed.
CAUTION = ("lasted", "unknown", "failed")


def rungs(f: Facts, policy: Policy) -> tuple[RungOutcome, ...]:
    """Each covered rung with the outcome of its most recent guided session since onset."""
    return f.remember(("rungs", policy.id), lambda: _rungs(f, policy))


def _rungs(f: Facts, policy: Policy) -> tuple[RungOutcome, ...]:
    lasting = f.kb.pathway.lasting_relief
    found = []
    for rung in f.kb.pathway.ladder:
        if not policy.option(rung.option).covered:
            continue
        session = last_session(f.tried(tuple(rung.kinds)))
        if not session:
            found.append(RungOutcome(rung.option, "untried", None))
            continue
        outcomes = [outcome(p, lasting.percent, lasting.weeks) for p in session]
        worst = min(outcomes, key=CAUTION.index)
        found.append(RungOutcome(rung.option, worst, session[outcomes.index(worst)]))
    return tuple(found)


def ladder_failed(f: Facts, policy: Policy) -> bool:
    """Every covered rung failed, and no procedure of any kind still gives relief."""
    return f.relief_still_ongoing is None and all(
        r.outcome == "failed" for r in rungs(f, policy))

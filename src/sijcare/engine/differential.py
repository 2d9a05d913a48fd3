"""Other pain sources the recorded facts point to; support lists the facts that point there."""

from __future__ import annotations

from typing import Literal, NamedTuple

from sijcare.engine.facts import Facts
from sijcare.engine.reasons import because
from sijcare.engine.screening import spondyloarthritis
from sijcare.model.assessment import DifferentialItem


def differential(f: Facts) -> list[DifferentialItem]:
    support = {
        "lumbar_radicular": f.radicular_support,
        "hip": ["hip_rotation_pain"] if f.hip_pattern else [],
        "inflammatory": _inflammatory_support(f),
    }
    return [
        DifferentialItem(id=item.id, support=support[item.id], reasons=[because(
            f"differential.{item.id}", f"{item.text} Supported by: {', '.join(support[item.id])}.",
            item.sources, support=support[item.id])])
        for item in f.kb.pathway.differential
        if support[item.id]
    ]


def _inflammatory_support(f: Facts) -> list[str]:
    features = sorted(set(f.history.spa_features or [])) if f.history else []
    return features if len(features) >= f.kb.screening.spondyloarthritis.test_hla_b27_at else []


class DifferentialState(NamedTuple):
    """Whether another pain source is still open, undecided or clear (ENGINE-RULES v3)."""

    status: Literal["open", "undecided", "clear"]
    findings: tuple[str, ...]  # what is open, or what was not recorded to decide it


def differential_state(f: Facts) -> DifferentialState:
    """Open on a radicular or hip pattern or a rheumatology referral; undecided while the
    facts that would show one were not recorded."""
    return f.remember("differential", lambda: _state(f))


def _state(f: Facts) -> DifferentialState:
    found = []
    if f.radicular_support:
        found.append("a radicular pattern")
    if f.hip_pattern:
        found.append("a hip pattern")
    if spondyloarthritis(f) is not None:
        found.append("a rheumatology referral (NICE NG65)")
    if found:
        return DifferentialState("open", tuple(found))
    missing = []
    if f.radiculopathy_excluded is None:
        missing.append("radicular signs (below the knee, neurological deficit, straight-leg "
                       "raise)")
    if f.exam is None or f.exam.hip_rotation_pain is None:
        missing.append("hip internal rotation")
    if f.spa_age_unknown:
        missing.append("the age at onset for the NICE NG65 rule (date of birth)")
    return DifferentialState("undecided" if missing else "clear", tuple(missing))

"""Other pain sources the recorded facts point to; support lists the facts that point there."""

from __future__ import annotations

from sijcare.engine import facts
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge
from sijcare.model.assessment import DifferentialItem
from sijcare.model.case import Case


def differential(case: Case, kb: Knowledge) -> list[DifferentialItem]:
    support = {
        "lumbar_radicular": facts.radicular_support(case),
        "hip": ["hip_rotation_pain"] if facts.hip_pattern(case) else [],
        "inflammatory": _inflammatory_support(case, kb),
    }
    return [
        DifferentialItem(id=item.id, support=support[item.id], reasons=[because(
            f"differential.{item.id}", f"{item.text} Supported by: {', '.join(support[item.id])}.",
            item.sources, support=support[item.id])])
        for item in kb.pathway.differential
        if support[item.id]
    ]


def _inflammatory_support(case: Case, kb: Knowledge) -> list[str]:
    features = sorted(set(case.history.spa_features or [])) if case.history else []
    return features if len(features) >= kb.screening.spondyloarthritis.test_hla_b27_at else []

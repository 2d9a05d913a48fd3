"""Other pain sources the recorded facts point to; support lists the facts that point there."""

from __future__ import annotations

from sijcare.engine.facts import Facts
from sijcare.engine.reasons import because
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

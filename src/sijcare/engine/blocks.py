"""Interpretation of the latest image-guided diagnostic block."""

from __future__ import annotations

from sijcare.engine.facts import Facts
from sijcare.engine.reasons import because
from sijcare.knowledge import Policy
from sijcare.model.assessment import BlockFinding


def block_result(relief: float | None, threshold: float, floor: float) -> str:
    if relief is None:
        return "none"
    if relief >= threshold:
        return "confirmed"
    return "equivocal" if relief >= floor else "negative"


def interpret_block(f: Facts, policy: Policy) -> BlockFinding:
    """Confirmed at the policy threshold, equivocal from the floor up, else negative."""
    floor = f.kb.pathway.block_equivocal_floor
    latest, relief = f.latest_block, f.latest_relief
    result = block_result(relief, policy.block_threshold, floor)
    sources = policy.sources.get("block_threshold", []) + f.kb.pathway.sources[
        "block_equivocal_floor"]
    if latest is None:
        ignored = len(f.unguided_blocks)
        text = "No image-guided diagnostic block recorded" + (
            f" ({ignored} block(s) without image guidance ignored)." if ignored else ".")
    else:
        text = (f"Block on {latest.date} ({latest.guidance}): pain {latest.pain_before:g} -> "
                f"{latest.pain_after:g}, {relief:g}% relief; {result} against the "
                f"{policy.block_threshold:g}% threshold of policy {policy.id} "
                f"(equivocal from {floor:g}%).")
    return BlockFinding(
        date=latest.date if latest else None, relief_percent=relief,
        threshold=policy.block_threshold, result=result, counted_in_12_months=f.recent_blocks,
        reasons=[because("block_interpretation", text, sources, relief_percent=relief,
                         threshold=policy.block_threshold)])

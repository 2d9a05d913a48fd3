"""Interpretation of the latest image-guided diagnostic block."""

from __future__ import annotations

from sijcare.engine import facts
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge, Policy
from sijcare.model.assessment import BlockFinding
from sijcare.model.case import Case


def block_result(relief: float | None, threshold: float, floor: float) -> str:
    if relief is None:
        return "none"
    if relief >= threshold:
        return "confirmed"
    return "equivocal" if relief >= floor else "negative"


def interpret_block(case: Case, kb: Knowledge, policy: Policy) -> BlockFinding:
    """Confirmed at the policy threshold, equivocal from the floor up, else negative."""
    floor = kb.pathway.block_equivocal_floor
    window = kb.pathway.rolling_window_days
    latest = facts.latest_block(case)
    recent = sum(facts.in_window(case, b.date, window) for b in facts.counted_blocks(case))
    relief = facts.relief_percent(latest) if latest else None
    result = block_result(relief, policy.block_threshold, floor)
    sources = policy.sources.get("block_threshold", []) + kb.pathway.sources[
        "block_equivocal_floor"]
    if latest is None:
        ignored = len(facts.unguided_blocks(case))
        text = "No image-guided diagnostic block recorded" + (
            f" ({ignored} block(s) without image guidance ignored)." if ignored else ".")
    else:
        text = (f"Block on {latest.date} ({latest.guidance}): pain {latest.pain_before:g} -> "
                f"{latest.pain_after:g}, {relief:g}% relief; {result} against the "
                f"{policy.block_threshold:g}% threshold of policy {policy.id} "
                f"(equivocal from {floor:g}%).")
    return BlockFinding(
        date=latest.date if latest else None, relief_percent=relief,
        threshold=policy.block_threshold, result=result, counted_in_12_months=recent,
        reasons=[because("block_interpretation", text, sources, relief_percent=relief,
                         threshold=policy.block_threshold)])

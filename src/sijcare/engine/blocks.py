"""Interpretation of the latest image-guided diagnostic block."""

from __future__ import annotations

from datetime import date

from sijcare.engine.facts import Facts
from sijcare.engine.memo import shared
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge, Policy
from sijcare.model.assessment import BlockFinding


def block_result(relief: float | None, threshold: float, floor: float) -> str:
    if relief is None:
        return "none"
    if relief >= threshold:
        return "confirmed"
    return "equivocal" if relief >= floor else "negative"


def interpret_block(f: Facts, policy: Policy) -> BlockFinding:
    latest = f.latest_block
    seen = (latest.date, latest.guidance, latest.pain_before, latest.pain_after) if latest else None
    return _finding(f.kb, policy.id, seen, f.latest_relief, f.recent_blocks,
                    len(f.unguided_blocks))


Seen = tuple[date, str, float, float]  # the latest counted block: date, guidance, before, after


@shared(maxsize=4096)
def _finding(kb: Knowledge, policy_id: str, latest: Seen | None, relief: float | None,
             recent: int, ignored: int) -> BlockFinding:
    """Confirmed at the policy threshold, equivocal from the floor up, else negative."""
    policy = kb.policies[policy_id]
    floor = kb.pathway.block_equivocal_floor
    result = block_result(relief, policy.block_threshold, floor)
    sources = policy.sources.get("block_threshold", []) + kb.pathway.sources[
        "block_equivocal_floor"]
    if latest is None:
        text = "No image-guided diagnostic block recorded" + (
            f" ({ignored} block(s) without image guidance ignored)." if ignored else ".")
    else:
        day, guidance, before, after = latest
        text = (f"Block on {day} ({guidance}): pain {before:g} -> "
                f"{after:g}, {relief:g}% relief; {result} against the "
                f"{policy.block_threshold:g}% threshold of policy {policy.id} "
                f"(equivocal from {floor:g}%).")
    return BlockFinding(
        date=latest[0] if latest else None, relief_percent=relief,
        threshold=policy.block_threshold, result=result, counted_in_12_months=recent,
        reasons=[because("block_interpretation", text, sources, relief_percent=relief,
                         threshold=policy.block_threshold)])

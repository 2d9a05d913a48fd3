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
    seen = (latest.date, latest.guidance, latest.pain_before, latest.pain_after,
            latest.side, latest.target) if latest else None
    other_side = len(f.guided_blocks) - len(f.counted_blocks)
    return _finding(f.kb, policy.id, seen, f.latest_relief, f.recent_blocks,
                    len(f.unguided_blocks), other_side, len(f.counted_blocks))


# The latest counted block: date, guidance, pain before and after, side, target.
Seen = tuple[date, str, float, float, str | None, str | None]


@shared(maxsize=4096)
def _finding(kb: Knowledge, policy_id: str, latest: Seen | None, relief: float | None,
             recent: int, ignored: int, other_side: int, counted: int) -> BlockFinding:
    """Confirmed at the policy threshold, equivocal from the floor up, else negative."""
    policy = kb.policies[policy_id]
    pathway = kb.pathway
    floor = pathway.block_equivocal_floor
    result = block_result(relief, policy.block_threshold, floor)
    sources = policy.sources.get("block_threshold", []) + pathway.sources[
        "block_equivocal_floor"]
    notes = []
    if other_side:
        notes.append(f"{other_side} block(s) on the other side not counted")
    if ignored:
        notes.append(f"{ignored} block(s) without image guidance ignored")
    if latest is None:
        text = "No image-guided diagnostic block on the complaint's side recorded."
    else:
        day, guidance, before, after, side, target = latest
        where = ", ".join(w.replace("_", "-") for w in (side, target) if w)
        text = (f"Block on {day} ({guidance}{', ' + where if where else ''}): pain {before:g} -> "
                f"{after:g}, {relief:g}% relief; {result} against the "
                f"{policy.block_threshold:g}% threshold of policy {policy.id} "
                f"(equivocal from {floor:g}%).")
        if result == "confirmed" and counted == 1:
            text += (f" A single block: {pathway.single_block_unconfirmed_percent:g}% of "
                     "single-block positives were not confirmed by a second block.")
            sources = sources + pathway.sources["single_block_unconfirmed_percent"]
    if notes:
        text += f" ({'; '.join(notes)}.)"
    return BlockFinding(
        date=latest[0] if latest else None, relief_percent=relief,
        threshold=policy.block_threshold, result=result, counted_in_12_months=recent,
        side=latest[4] if latest else None, target=latest[5] if latest else None,
        reasons=[because("block_interpretation", text, sources, relief_percent=relief,
                         threshold=policy.block_threshold)])

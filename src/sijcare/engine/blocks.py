"""Interpretation of the latest image-guided diagnostic block."""

from __future__ import annotations

from datetime import date

from sijcare.engine.facts import Facts, Session
from sijcare.engine.memo import shared
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge, Policy
from sijcare.model.assessment import BlockFinding


def block_result(relief: float | None, threshold: float, floor: float,
                 previous: float | None = None) -> str:
    """Confirmed at the threshold, equivocal from the floor, else negative; a confirmed block
    right after a negative one is equivocal (discordant blocks, ENGINE-RULES v3)."""
    if relief is None:
        return "none"
    if relief >= threshold:
        return "equivocal" if previous is not None and previous < floor else "confirmed"
    return "equivocal" if relief >= floor else "negative"


def sessions_result(sessions: tuple[Session, ...], threshold: float, floor: float) -> str:
    """The result of the latest of these sessions, read against the one before it."""
    if not sessions:
        return "none"
    previous = sessions[-2].relief if len(sessions) > 1 else None
    return block_result(sessions[-1].relief, threshold, floor, previous)


def interpret_block(f: Facts, policy: Policy) -> BlockFinding:
    latest = f.latest_block
    seen = (latest.date, latest.guidance, latest.pain_before, latest.pain_after,
            latest.side, latest.target) if latest else None
    before_onset = sum(1 for b in f.blocks_before_onset if b.guidance != "none")
    other_side = len(f.guided_blocks) - len(f.counted_blocks) - before_onset
    previous = f.block_sessions[-2].relief if len(f.block_sessions) > 1 else None
    return _finding(f.kb, policy.id, seen, f.latest_relief, previous, f.recent_blocks,
                    len(f.unguided_blocks), other_side, before_onset, len(f.block_sessions))


# The latest counted block: date, guidance, pain before and after, side, target.
Seen = tuple[date, str, float, float, str | None, str | None]


@shared(maxsize=4096)
def _finding(kb: Knowledge, policy_id: str, latest: Seen | None, relief: float | None,
             previous: float | None, recent: int, ignored: int, other_side: int,
             before_onset: int, counted: int) -> BlockFinding:
    """Confirmed at the policy threshold, equivocal from the floor up, else negative."""
    policy = kb.policies[policy_id]
    pathway = kb.pathway
    floor = pathway.block_equivocal_floor
    result = block_result(relief, policy.block_threshold, floor, previous)
    sources = policy.sources.get("block_threshold", []) + pathway.sources[
        "block_equivocal_floor"]
    notes = []
    if other_side:
        notes.append(f"{other_side} block(s) on the other side not counted")
    if before_onset:
        notes.append(f"{before_onset} block(s) from before this pain began not counted")
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
        if previous is not None and previous < floor <= policy.block_threshold <= relief:
            text += (f" The block before it gave {previous:g}% relief (negative): discordant "
                     "blocks count as equivocal until a further block decides.")
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

"""The pathway stage: the first rule, in pathway order, that applies."""

from __future__ import annotations

from sijcare.engine.facts import Facts, lasting_relief, relief_ongoing
from sijcare.engine.memo import shared
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge, Policy
from sijcare.model.assessment import BlockFinding, ClusterResult, Reason


def _untried_rungs(f: Facts, policy: Policy) -> list[str]:
    """The covered ladder rungs not yet tried without lasting relief (most recent of each)."""
    lasting = f.kb.pathway.lasting_relief
    untried = []
    for rung in f.kb.pathway.ladder:
        if not policy.option(rung.option).covered:
            continue
        given = f.kinds(tuple(rung.kinds))
        if not given or lasting_relief(given[-1], lasting.percent, lasting.weeks) is not False:
            untried.append(rung.option)
    return untried


def choose_stage(f: Facts, policy: Policy, cluster: ClusterResult,
                 block: BlockFinding) -> tuple[str, str]:
    """(stage id, the plain-words why) for the first stage rule that applies."""
    pathway = f.kb.pathway
    weeks = f.care_weeks
    flags = f.red_flags
    no_block = block.result == "none"
    if flags:
        return "urgent_referral", f"red flag(s): {', '.join(flags)}"
    if block.result == "negative":
        return "evaluate_other_source", (
            f"the latest image-guided block gave {block.relief_percent:g}% relief (below "
            f"{pathway.block_equivocal_floor:g}%)")
    if no_block and cluster.result == "negative":
        return "evaluate_other_source", (
            "no image-guided block and the provocation cluster is negative")
    if no_block and cluster.result == "incomplete":
        missing = ", ".join(t for t, r in cluster.tests.items() if r is None)
        return "complete_examination", (
            f"no image-guided block and the cluster is incomplete (not performed: {missing})")
    if weeks is None:
        return "conservative_care", "no conservative care is recorded"
    if weeks < policy.conservative_min_weeks:
        return "conservative_care", (f"{weeks:.1f} weeks of conservative care, below the "
                                     f"{policy.conservative_min_weeks:g}-week minimum")
    if no_block:
        return "diagnostic_block", "no image-guided diagnostic block yet"
    if block.result == "equivocal":
        return "diagnostic_block", f"the latest block was equivocal ({block.relief_percent:g}%)"
    done = f.procedures
    if done and relief_ongoing(done[-1], pathway.relief_ongoing_percent):
        last = done[-1]
        return "maintenance", (
            f"the {last.kind} on {last.date} still gives {last.relief_percent:g}% relief")
    if weeks >= pathway.surgical_conservative_weeks and not _untried_rungs(f, policy):
        lasting = pathway.lasting_relief
        tried = [policy.option(r.option).name for r in pathway.ladder
                 if policy.option(r.option).covered]
        return "surgical_evaluation", (
            f"block confirmed, {weeks:.1f} weeks of conservative care, and the most recent "
            f"{' and '.join(tried)} gave no lasting relief (under {lasting.percent:g}% or under "
            f"{lasting.weeks:g} weeks)")
    return "interventional_treatment", (
        f"block confirmed ({block.relief_percent:g}%) after {weeks:.1f} weeks of conservative care")


def stage_reasons(kb: Knowledge, stage_id: str, why: str, policy: Policy) -> list[Reason]:
    return list(_stage_reasons(kb, stage_id, why, policy.id))


@shared(maxsize=4096)
def _stage_reasons(kb: Knowledge, stage_id: str, why: str, policy_id: str) -> tuple[Reason, ...]:
    stage = next(s for s in kb.pathway.stages if s.id == stage_id)
    return (because(f"stage.{stage_id}", f"{stage.name}: {why}. {stage.text}", stage.sources,
                    policy=policy_id),)

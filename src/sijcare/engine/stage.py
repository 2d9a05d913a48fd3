"""The pathway stage: the first rule, in pathway order, that applies."""

from __future__ import annotations

from sijcare.engine import facts
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge, Policy
from sijcare.model.assessment import BlockFinding, ClusterResult, Reason
from sijcare.model.case import Case, Procedure


def _failed_intervention(procedure: Procedure, lasting_percent: float, lasting_weeks: float) -> bool:
    """An interventional procedure whose relief was too small or too short."""
    if procedure.kind == "mis_fusion":
        return False
    too_small = procedure.relief_percent is not None and procedure.relief_percent < lasting_percent
    too_short = procedure.relief_weeks is not None and procedure.relief_weeks < lasting_weeks
    return too_small or too_short


def choose_stage(case: Case, kb: Knowledge, policy: Policy, flags: list[str],
                 cluster: ClusterResult, block: BlockFinding) -> tuple[str, str]:
    """(stage id, the plain-words why) for the first stage rule that applies."""
    pathway = kb.pathway
    weeks = facts.conservative_weeks(case)
    if flags:
        return "urgent_referral", f"red flag(s): {', '.join(flags)}"
    if block.result == "negative":
        return "evaluate_other_source", f"the latest image-guided block gave {block.relief_percent:g}% relief (below 50%)"
    if block.result == "none" and cluster.result == "negative":
        return "evaluate_other_source", "no image-guided block and the provocation cluster is negative"
    if block.result == "none" and cluster.result == "incomplete":
        missing = [t for t, r in cluster.tests.items() if r is None]
        return "complete_examination", f"no image-guided block and the cluster is incomplete (not performed: {', '.join(missing)})"
    if weeks is None:
        return "conservative_care", "no conservative care is recorded"
    if weeks < policy.conservative_min_weeks:
        return "conservative_care", f"{weeks:.1f} weeks of conservative care, below the {policy.conservative_min_weeks:g}-week minimum"
    if block.result in ("none", "equivocal"):
        why = "no image-guided diagnostic block yet" if block.result == "none" else (
            f"the latest block was equivocal ({block.relief_percent:g}%)")
        return "diagnostic_block", why
    done = facts.procedures_of(case)
    if done and facts.relief_ongoing(done[-1], pathway.relief_ongoing_percent):
        last = done[-1]
        return "maintenance", f"the {last.kind} on {last.date} still gives {last.relief_percent:g}% relief"
    lasting = pathway.lasting_relief
    failed = [p for p in done if _failed_intervention(p, lasting.percent, lasting.weeks)]
    if weeks >= pathway.surgical_conservative_weeks and failed:
        p = failed[-1]
        return "surgical_evaluation", (
            f"block confirmed, {weeks:.1f} weeks of conservative care, and the {p.kind} on {p.date} "
            f"gave no lasting relief (under {lasting.percent:g}% or under {lasting.weeks:g} weeks)")
    return "interventional_treatment", f"block confirmed ({block.relief_percent:g}%) after {weeks:.1f} weeks of conservative care"


def stage_reasons(kb: Knowledge, stage_id: str, why: str, policy: Policy) -> list[Reason]:
    stage = next(s for s in kb.pathway.stages if s.id == stage_id)
    return [because(f"stage.{stage_id}", f"{stage.name}: {why}. {stage.text}", stage.sources,
                    policy=policy.id)]

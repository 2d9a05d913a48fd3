"""The pathway stage: the first rule, in pathway order, that applies (ENGINE-RULES v3).

Safety comes before availability: the red-flag screen must be recorded before anything
else, surgery needs a confirmed joint, a failed ladder, a clear differential and no earlier
fusion of the joint, and a stage whose next option is stopped says what stops it.
"""

from __future__ import annotations

from sijcare.engine.blocks import sessions_result
from sijcare.engine.differential import differential_state
from sijcare.engine.facts import Facts, last_session, relief_ongoing
from sijcare.engine.ladder import ladder_failed
from sijcare.engine.memo import shared
from sijcare.engine.reasons import because
from sijcare.knowledge import Knowledge, Policy
from sijcare.model.assessment import BlockFinding, ClusterResult, OptionResult, Reason

# The option each stage points to, whose stop the stage must name.
POINTS_TO = {"diagnostic_block": "diagnostic_sij_injection",
             "surgical_evaluation": "mis_sij_fusion"}


def joint_confirmed(f: Facts, policy: Policy) -> bool:
    """The latest intra-articular block is confirmed (threshold and discordance)."""
    floor = f.kb.pathway.block_equivocal_floor
    return sessions_result(f.joint_sessions, policy.block_threshold, floor) == "confirmed"


def confirmed_sessions(f: Facts, policy: Policy) -> int:
    return sum(1 for s in f.block_sessions if s.relief >= policy.block_threshold)


def choose_stage(f: Facts, policy: Policy, cluster: ClusterResult,
                 block: BlockFinding, reviewed: Facts | None = None) -> tuple[str, str]:
    """(stage id, the plain-words why) for the first stage rule that applies.

    `reviewed` is the case without its unreviewed imports: a failed ladder or a treatment
    still helping (which move the pathway on) are read there, the stops on `f`.
    """
    opening = reviewed or f
    pathway = f.kb.pathway
    weeks = f.care_weeks
    flags = f.red_flags
    no_block = block.result == "none"
    if flags:
        return "urgent_referral", f"red flag(s): {', '.join(flags)}"
    if flags is None:
        return "complete_examination", "the red-flag screen is not recorded; it comes first"
    if block.result == "negative":
        return "evaluate_other_source", (
            f"the latest image-guided block gave {block.relief_percent:g}% relief (below "
            f"{pathway.block_equivocal_floor:g}%)")
    if no_block and cluster.result == "negative":
        return "evaluate_other_source", (
            "no image-guided block and the provocation cluster is negative")
    surgical_ground = (joint_confirmed(f, policy) and weeks is not None
                       and weeks >= pathway.surgical_conservative_weeks
                       and ladder_failed(opening, policy))
    differential = differential_state(f)
    if surgical_ground and differential.status == "open":
        return "evaluate_other_source", (
            f"the treatment ladder failed, but {' and '.join(differential.findings)} point(s) "
            "to another source of pain; work that up before any surgery")
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
        return "diagnostic_block", "no image-guided diagnostic block on the complaint's side yet"
    if block.result == "equivocal":
        return "diagnostic_block", f"the latest block was equivocal ({block.relief_percent:g}%)"
    if cluster.result == "negative" and confirmed_sessions(f, policy) < 2:
        return "diagnostic_block", (
            "the provocation cluster is negative but a block confirmed the joint: the exam and "
            "the block disagree, so a second confirming block comes first")
    helping = [p for p in last_session(opening.procedures)
               if relief_ongoing(p, pathway.relief_ongoing_percent)]
    if helping:
        last = helping[-1]
        return "maintenance", (
            f"the {last.kind} on {last.date} still gives {last.relief_percent:g}% relief")
    pregnant = f.case.patient.pregnant is True
    if surgical_ground and not f.prior_fusions and not pregnant:
        lasting = pathway.lasting_relief
        tried = [policy.option(r.option).name for r in pathway.ladder
                 if policy.option(r.option).covered]
        return "surgical_evaluation", (
            f"intra-articular block confirmed, {weeks:.1f} weeks of conservative care, the most "
            f"recent {' and '.join(tried)} since this pain began gave no lasting relief (under "
            f"{lasting.percent:g}% or under {lasting.weeks:g} weeks"
            f"{'; provisional rule' if lasting.provisional else ''}), and no other source of "
            "pain is open")
    why = (f"block confirmed ({block.relief_percent:g}%) after {weeks:.1f} weeks of conservative "
           "care")
    if surgical_ground and pregnant:
        why += "; the patient is pregnant, so elective procedures and surgery wait"
    return "interventional_treatment", why


def stage_reasons(kb: Knowledge, stage_id: str, why: str, policy: Policy, f: Facts,
                  options: dict[str, OptionResult]) -> list[Reason]:
    """The stage's why, then what stops the option it points to, then an earlier fusion."""
    found = list(_stage_reasons(kb, stage_id, why, policy.id))
    pointed = POINTS_TO.get(stage_id)
    if pointed and options[pointed].status in ("not_met", "unknown"):
        found.append(_option_stopped(kb, policy.id, pointed, options[pointed]))
    if stage_id == "interventional_treatment" and f.prior_fusions:
        found.append(_prior_fusion(kb, tuple(str(p.date) for p in f.prior_fusions)))
    return found


@shared(maxsize=4096)
def _stage_reasons(kb: Knowledge, stage_id: str, why: str, policy_id: str) -> tuple[Reason, ...]:
    stage = next(s for s in kb.pathway.stages if s.id == stage_id)
    return (because(f"stage.{stage_id}", f"{stage.name}: {why}. {stage.text}", stage.sources,
                    policy=policy_id),)


def _option_stopped(kb: Knowledge, policy_id: str, option_id: str,
                    result: OptionResult) -> Reason:
    """Name each criterion that stops the option, by its label, with its detail."""
    stopping = [c for c in result.criteria if c.status == "not_met"]
    open_ = [c for c in result.criteria if c.status == "unknown"]
    parts = []
    if stopping:
        parts.append("not met: " + "; ".join(f"{c.text} ({c.detail})" for c in stopping))
    if open_:
        parts.append("still to document: " + "; ".join(f"{c.text} ({c.detail})"
                                                       for c in open_))
    sources = tuple(dict.fromkeys(s for c in (*stopping, *open_) for s in c.sources))
    return because("option_stopped",
                   f"{result.name} cannot go ahead yet under policy {policy_id}: "
                   f"{'. '.join(parts)}.", sources, option=option_id,
                   criteria=[c.id for c in (*stopping, *open_)])


def _prior_fusion(kb: Knowledge, dates: tuple[str, ...]) -> Reason:
    rule = kb.pathway.prior_fusion
    return because("prior_fusion",
                   f"A fusion of this joint is recorded ({', '.join(dates)}). {rule.text}",
                   rule.sources, fusions=list(dates))

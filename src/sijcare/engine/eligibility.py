"""Eligibility of each option under a policy: every criterion met, not met or unknown.

Criteria are data (policy YAML names a check and its parameters); the checks are the small
functions below. A check answers `unknown` whenever the fact it needs was not recorded, and
says what to document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

from sijcare.engine.blocks import sessions_result
from sijcare.engine.differential import differential_state
from sijcare.engine.facts import (
    JOINT_TARGETS,
    Facts,
    Session,
    combined_gaenslen,
    last_session,
    lasting_relief,
    sessions,
)
from sijcare.engine.ladder import rungs
from sijcare.engine.memo import Shelf, shared
from sijcare.engine.provocation_count import count_provocation
from sijcare.engine.reasons import because
from sijcare.knowledge import Criterion, Knowledge, Option, Policy
from sijcare.model.assessment import CriterionResult, EvidenceLine, OptionResult, Reason


class Verdict(NamedTuple):
    status: str  # met | not_met | unknown
    detail: str
    document: str | None = None
    pending: str | None = None  # not met yet only because time has not passed
    # met only because there was no earlier treatment to judge (a first injection): no
    # reader may take it for "the previous injection gave relief"
    none_before: bool = False


class Context(NamedTuple):
    facts: Facts
    policy: Policy
    params: dict[str, Any]


Check = Callable[[Context], Verdict]

# Whole lists not recorded: every check that counts their entries is unknown the same way.
PROCEDURES_UNKNOWN = Verdict("unknown", "procedures not recorded",
                             "Record earlier procedures (or none).")
BLOCKS_UNKNOWN = Verdict("unknown", "diagnostic blocks not recorded",
                         "Record each image-guided diagnostic block with pain before and after "
                         "(or none).")
CHECKS: dict[str, Check] = {}
# Checks that guard the patient rather than the payer's paperwork: a criterion running one
# that is not met stops the option for safety, and one that is unknown is the first thing to
# document (ENGINE-RULES v3, "safety before availability").
SAFETY_CHECKS = frozenset({
    "no_red_flags", "not_pregnant", "no_allergy", "anticoagulation_addressed",
    "steroid_sessions", "repeat_interval", "regenerative_series_limit", "no_prior_fusion",
    "differential_clear",
})


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn
    return register


def tri(value: bool | None, met: str, not_met: str, unknown: str, document: str) -> Verdict:
    """Map a three-valued fact onto a verdict, with what to record when it is unknown."""
    if value is None:
        return Verdict("unknown", unknown, document)
    return Verdict("met", met) if value else Verdict("not_met", not_met)


@check("pain_duration")
def pain_duration(ctx: Context) -> Verdict:
    months = ctx.params["min_months"]
    lasted = ctx.facts.pain_lasted(months)
    text = ctx.facts.pain_text
    return tri(lasted, f"{text}: at least {months} months",
               f"{text}: less than {months} months", "pain onset or duration not recorded",
               "Record when the pain began (history.pain_onset).")


@check("location_below_l5")
def location_below_l5(ctx: Context) -> Verdict:
    history = ctx.facts.history
    below = history.below_l5 if history else None
    areas = history.pain_areas if history else None
    sij_share = areas.sij_region if areas else None
    if below is False:
        return Verdict("not_met", "pain is not below L5")
    if areas is not None and not sij_share:
        return Verdict("not_met", "no share of the pain is in the SI region")
    if below is None:
        return Verdict("unknown", "whether the pain is below L5 was not recorded",
                       "Record whether the pain lies below L5 (history.below_l5).")
    share = f", {sij_share:g}% in the SI region" if areas is not None else ""
    return Verdict("met", f"pain below L5{share}")


@check("no_radiculopathy")
def no_radiculopathy(ctx: Context) -> Verdict:
    excluded = ctx.facts.radiculopathy_excluded
    if excluded is False:
        return Verdict("not_met", f"radicular pattern: {', '.join(ctx.facts.radicular_support)}")
    if excluded is None:
        return Verdict("unknown", "radicular signs not fully recorded",
                       "Record below_knee, neuro_deficit and the straight-leg raise.")
    if ctx.facts.history and ctx.facts.history.below_knee is False:
        return Verdict("met", "pain does not reach below the knee")
    return Verdict("met", "no neurological deficit and straight-leg raise negative")


@check("imaging_excludes")
def imaging_excludes(ctx: Context) -> Verdict:
    """Met when a study of the named kinds excludes other causes.

    When the recorded imaging holds none of the kinds a policy names (only an X-ray where CT
    or MRI is required), the requirement is known to be unmet; with no imaging recorded at
    all it stays unknown, as the injection LCD says.
    """
    modalities = ctx.params.get("modalities")
    studies = [i for i in ctx.facts.case.imaging or []
               if not modalities or i.modality in modalities]
    kinds = "/".join(m.upper() for m in modalities) if modalities else "imaging"
    if any(i.excludes_other_causes is True for i in studies):
        first = next(i for i in studies if i.excludes_other_causes)
        return Verdict("met", f"{first.modality.upper()} on {first.date} excludes other causes")
    if any(i.excludes_other_causes is False for i in studies):
        return Verdict("not_met", f"{kinds} did not exclude other causes")
    if modalities and ctx.facts.case.imaging and not studies:
        done = ", ".join(sorted({i.modality.upper() for i in ctx.facts.case.imaging}))
        return Verdict("not_met", f"no {kinds} among the imaging recorded ({done})")
    return Verdict("unknown", f"no {kinds} with a recorded conclusion on other causes",
                   f"Record {kinds} and whether it excludes other causes.")


@check("provocation_count")
def provocation_count(ctx: Context) -> Verdict:
    tests = ctx.facts.provocation
    wanted: tuple[str, ...] = tuple(ctx.params["tests"])
    results = tuple(combined_gaenslen(tests) if t == "gaenslen" else tests[t] for t in wanted)
    return _provocation(ctx.facts.kb, wanted, ctx.params["min_positive"], results)


@shared(maxsize=4096)
def _provocation(kb: Knowledge, wanted: tuple[str, ...], need: int,
                 results: tuple[str | None, ...]) -> Verdict:
    """The verdict follows from the listed tests' results alone: worked out once for each."""
    count = count_provocation(results)
    missing = [t for t, r in zip(wanted, results, strict=True) if r is None]
    summary = count.words  # of the tests the criterion lists (Gaenslen's two sides as one)
    if count.positive >= need:
        return Verdict("met", summary)
    if count.positive + count.not_performed < need:
        return Verdict("not_met", f"{summary}; {need} can no longer be reached")
    return Verdict("unknown", f"{summary} ({', '.join(missing)})",
                   f"Perform and record: {', '.join(missing)}.")


@check("conservative_weeks")
def conservative_weeks(ctx: Context) -> Verdict:
    need = ctx.params["min_weeks"]
    weeks = ctx.facts.care_weeks
    if weeks is None:
        return Verdict("unknown", "conservative care not recorded",
                       "Record each conservative-care course with its dates.")
    ok = weeks >= need
    return Verdict("met" if ok else "not_met",
                   f"{weeks:.1f} weeks of conservative care ({'at least' if ok else 'under'} "
                   f"{need:g})")


@check("blocks_in_window")
def blocks_in_window(ctx: Context) -> Verdict:
    if ctx.facts.case.blocks is None:
        return BLOCKS_UNKNOWN
    limit = ctx.params["fewer_than"]
    count = ctx.facts.recent_blocks
    ok = count < limit
    return Verdict("met" if ok else "not_met",
                   f"{count} image-guided block(s) in the {ctx.facts.window_label} "
                   f"(limit: fewer than {limit})")


@check("no_red_flags")
def no_red_flags(ctx: Context) -> Verdict:
    flags = ctx.facts.red_flags
    if flags is None:
        return Verdict("unknown", "red-flag screen not recorded",
                       "Record the red-flag screen (history.red_flags, [] if none).")
    return Verdict("not_met", f"red flag(s): {', '.join(flags)}") if flags else Verdict(
        "met", "red-flag screen negative")


@check("block_relief")
def block_relief(ctx: Context) -> Verdict:
    """The latest counted block session; with `joint_only`, the latest one into the joint.

    A confirmed block right after a negative one of the same kind is not a confirmation
    (discordant blocks, ENGINE-RULES v3)."""
    threshold = ctx.params.get("threshold", ctx.policy.block_threshold)
    if ctx.facts.case.blocks is None:
        return BLOCKS_UNKNOWN
    joint = ctx.params.get("joint_only", False)
    read = ctx.facts.joint_sessions if joint else ctx.facts.block_sessions
    if not read:
        return Verdict("not_met", "no image-guided intra-articular block on the complaint's side"
                       if joint else "no image-guided diagnostic block on the complaint's side")
    latest = read[-1]
    floor = ctx.facts.kb.pathway.block_equivocal_floor
    target = latest.block.target.replace("_", "-") + " " if latest.block.target else ""
    summary = f"{target}block on {latest.date}: {latest.relief:g}% relief"
    if latest.relief < threshold:
        return Verdict("not_met", f"{summary} (below {threshold:g}%)")
    if sessions_result(read, threshold, floor) != "confirmed":
        return Verdict("not_met", f"{summary}, but the block before it on {read[-2].date} gave "
                                  f"{read[-2].relief:g}% (negative): discordant blocks")
    return Verdict("met", f"{summary} (at least {threshold:g}%)")


@check("two_concordant_blocks")
def two_concordant_blocks(ctx: Context) -> Verdict:
    """Two intra-articular sessions on different dates, each at the fusion threshold, each on
    a recorded side of the complaint; a bilateral complaint needs two for each side."""
    if ctx.facts.case.blocks is None:
        return BLOCKS_UNKNOWN
    threshold = ctx.policy.fusion_block_threshold
    side = ctx.facts.history.side if ctx.facts.history else None
    if side == "bilateral":
        joint = [b for b in ctx.facts.counted_blocks if b.target in JOINT_TARGETS]
        per_side = [_concordance(sessions([b for b in joint if b.side in (s, "bilateral", None)]),
                                 threshold, s) for s in ("left", "right")]
        failed = [v for v in per_side if v.status == "not_met"]
        unknown = [v for v in per_side if v.status == "unknown"]
        verdict = (failed or unknown or per_side)[0]
        detail = "; ".join(f"{s}: {v.detail}" for s, v in zip(("left", "right"), per_side,
                                                              strict=True))
        return verdict._replace(detail=detail)
    return _concordance(ctx.facts.joint_sessions, threshold, side)


def _concordance(joint: tuple[Session, ...], threshold: float, side: str | None) -> Verdict:
    """The two most recent intra-articular sessions read against the threshold and the side."""
    read = joint[-2:]
    if len(read) < 2:
        return Verdict("not_met", f"{len(read)} image-guided intra-articular block session(s) "
                                  "on the complaint's side (two are needed)")
    summary = " and ".join(f"{s.date} {s.relief:g}%" for s in read)
    if any(s.relief < threshold for s in read):
        return Verdict("not_met", f"the two most recent intra-articular blocks ({summary}) do not "
                                  f"both reach {threshold:g}%")
    if side is None and all(s.block.side == "bilateral" for s in read):
        return Verdict("met", f"two bilateral blocks at {threshold:g}% or more ({summary})")
    if side is None or any(s.block.side is None for s in read):
        return Verdict("unknown", f"two blocks at {threshold:g}% or more ({summary}), but a side "
                                  "is not recorded",
                       "Record the side of the complaint and of each block.")
    return Verdict("met", f"two concordant blocks at {threshold:g}% or more ({summary})")


def _relief(percent: float | None, weeks: float | None) -> str:
    """How much relief for how long, saying once what is not recorded (never "relief not
    recorded for not recorded")."""
    if percent is None and weeks is None:
        return "relief not recorded"
    if weeks is None:
        return f"relief {percent:g}%, how long not recorded"
    if percent is None:
        return f"relief for {weeks:g} weeks, how much not recorded"
    return f"relief {percent:g}% for {weeks:g} weeks"


@check("repeat_response")
def repeat_response(ctx: Context) -> Verdict:
    """A repeat needs the last one of its kinds to have given lasting relief; a first is met.

    Entries of the last date are one session: each must have given lasting relief."""
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    kinds = tuple(ctx.params.get("kinds", ("steroid_injection",)))
    what = ctx.params.get("name", "steroid injection")
    session = last_session(ctx.facts.kinds(kinds))
    if not session:
        return Verdict("met", f"no previous {what}: a first treatment", none_before=True)
    percent, weeks = ctx.params["percent"], ctx.params["weeks"]
    verdicts = [lasting_relief(p, percent, weeks) for p in session]
    ok = False if False in verdicts else None if None in verdicts else True
    last = session[verdicts.index(ok)]  # the entry that decides
    summary = (f"{what} on {last.date}: {_relief(last.relief_percent, last.relief_weeks)} "
               f"(needs {percent:g}% for {weeks:g} weeks)")
    if ok is None:
        return Verdict("unknown", summary,
                       "Record the relief percent and how many weeks it lasted.")
    pending = None
    if not ok and last.relief_ongoing and last.relief_weeks is not None and (
            last.relief_percent is None or last.relief_percent >= percent):
        pending = (f"relief ongoing at {last.relief_weeks:g} weeks; decidable at {weeks:g}")
    return Verdict("met" if ok else "not_met", summary, pending=pending)


@check("repeat_interval")
def repeat_interval(ctx: Context) -> Verdict:
    """The last procedure of the kinds at least `min_days` before `as_of`; none given is met."""
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    given = ctx.facts.kinds(tuple(ctx.params["kinds"]))
    what, need = ctx.params["name"], ctx.params["min_days"]
    if not given:
        return Verdict("met", f"no previous {what}", none_before=True)
    last = given[-1]
    days = (ctx.facts.case.as_of - last.date).days
    summary = f"last {what} on {last.date}, {days} days ago (needs at least {need})"
    if days >= need:
        return Verdict("met", summary)
    return Verdict("not_met", summary,
                   pending=f"repeat possible from {last.date + timedelta(days=need)}")


@check("regenerative_series_limit")
def regenerative_series_limit(ctx: Context) -> Verdict:
    """The active series (prolotherapy and PRP together) is under the limit; an ended series
    starts afresh."""
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    limit = ctx.params["limit"]
    active = [s for s in ctx.facts.combined_series if s.active]
    if not active:
        return Verdict("met", "no active regenerative series")
    series = active[-1]
    summary = (f"regenerative series since {series.started}: {series.injections} injection(s) "
               f"of prolotherapy and PRP together (limit {limit})")
    return Verdict("not_met" if series.injections >= limit else "met", summary)


@check("regenerative_response")
def regenerative_response(ctx: Context) -> Verdict:
    """Stop a series whose two most recent injections with a recorded relief both fell short."""
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    below = ctx.params["relief_below"]
    if not ctx.facts.combined_series:
        return Verdict("met", "no regenerative injection given", none_before=True)
    series = ctx.facts.combined_series[-1]
    recorded = [r for r in series.reliefs if r is not None][-2:]
    summary = (f"series since {series.started}: relief of the last injections with a figure: "
               f"{', '.join(f'{r:g}%' for r in recorded) or 'none recorded'}")
    if len(recorded) == 2 and all(r < below for r in recorded):
        return Verdict("not_met", f"{summary} (both below {below:g}%)")
    return Verdict("met", summary)


@check("not_pregnant")
def not_pregnant(ctx: Context) -> Verdict:
    patient = ctx.facts.case.patient
    if patient.pregnant is True:
        return Verdict("not_met", "pregnant: elective fluoroscopic and surgical procedures wait")
    if ctx.facts.could_be_pregnant:
        age = ctx.facts.age
        who = f"a patient aged {age}" if age is not None else "a patient of unrecorded age"
        return Verdict("unknown", f"pregnancy not recorded for {who} who could be pregnant",
                       "Ask about and record pregnancy (patient.pregnant).")
    if patient.pregnant is False:
        return Verdict("met", "not pregnant")
    if patient.sex == "male":
        return Verdict("met", "male patient")
    return Verdict("met", f"pregnancy not recorded; aged {ctx.facts.age}, outside the "
                          "screening ages")


@check("anticoagulation_addressed")
def anticoagulation_addressed(ctx: Context) -> Verdict:
    """On an anticoagulant, a procedure waits for a documented peri-procedural plan."""
    medications = ctx.facts.case.medications
    taking = medications.anticoagulant if medications else None
    if taking is False:
        return Verdict("met", "no anticoagulant")
    if taking is None:
        return Verdict("unknown", "anticoagulant use not recorded",
                       "Record whether the patient takes an anticoagulant.")
    plan = medications.anticoagulant_plan
    if plan is True:
        return Verdict("met", "on an anticoagulant with a documented peri-procedural plan")
    if plan is False:
        return Verdict("not_met", "on an anticoagulant and no peri-procedural plan agreed")
    return Verdict("unknown", "on an anticoagulant; the peri-procedural plan is not documented",
                   "Document the anticoagulation plan (hold or bridge, agreed with the "
                   "prescriber).")


@check("no_allergy")
def no_allergy(ctx: Context) -> Verdict:
    allergy = ctx.params["allergy"]
    words = allergy.replace("_", "-")
    recorded = ctx.facts.case.allergies
    if recorded is None:
        return Verdict("unknown", "allergies not recorded", "Record allergies (or none).")
    if allergy in recorded:
        return Verdict("not_met", f"{words} allergy recorded")
    return Verdict("met", f"no {words} allergy recorded")


@check("steroid_sessions")
def steroid_sessions(ctx: Context) -> Verdict:
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    limit = ctx.params["fewer_than"]
    dates = {p.date for p in ctx.facts.steroid_injections if ctx.facts.in_window(p.date)}
    ok = len(dates) < limit
    return Verdict("met" if ok else "not_met",
                   f"{len(dates)} steroid injection date(s) in the {ctx.facts.window_label} "
                   f"(limit: fewer than {limit})")


@check("fortin_point")
def fortin_point(ctx: Context) -> Verdict:
    finger = ctx.facts.history.fortin_finger if ctx.facts.history else None
    tenderness = ctx.facts.exam.tenderness if ctx.facts.exam else None
    sulcus = tenderness.sacral_sulcus if tenderness else None
    if finger or sulcus:
        which = "Fortin finger test positive" if finger else "sacral sulcus tender"
        return Verdict("met", which)
    if finger is False and sulcus is False:
        return Verdict("not_met", "Fortin finger test negative and sacral sulcus not tender")
    return Verdict("unknown", "Fortin finger test or sacral sulcus tenderness not recorded",
                   "Record the Fortin finger test and sacral sulcus tenderness.")


@check("no_generalized_pain_disorder")
def no_generalized_pain_disorder(ctx: Context) -> Verdict:
    history = ctx.facts.history
    value = history.generalized_pain_disorder if history else None
    return tri(None if value is None else not value, "no generalised pain disorder",
               "generalised pain disorder recorded", "generalised pain disorder not recorded",
               "Record whether a generalised pain disorder is present.")


@check("ladder_failed")
def ladder_failed(ctx: Context) -> Verdict:
    """Every covered rung tried in this episode without lasting relief, none still helping."""
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    ongoing = ctx.facts.relief_still_ongoing
    if ongoing is not None:
        return Verdict("not_met", f"the {ongoing.kind.replace('_', ' ')} on {ongoing.date} still "
                                  f"gives {ongoing.relief_percent:g}% relief")
    found = rungs(ctx.facts, ctx.policy)
    name = {r.option: ctx.policy.option(r.option).name for r in found}
    untried = [name[r.option] for r in found if r.outcome == "untried"]
    lasted = [f"{name[r.option]} on {r.latest.date}" for r in found if r.outcome == "lasted"]
    unknown = [f"{name[r.option]} on {r.latest.date}" for r in found if r.outcome == "unknown"]
    if untried or lasted:
        parts = ([f"not yet tried since this pain began (image-guided): {', '.join(untried)}"]
                 if untried else []) + (
            [f"gave lasting relief: {', '.join(lasted)}"] if lasted else [])
        return Verdict("not_met", "; ".join(parts))
    if unknown:
        return Verdict("unknown", f"outcome not recorded: {', '.join(unknown)}",
                       "Record the relief (percent and weeks) of the most recent procedure of "
                       "each rung.")
    return Verdict("met", "no lasting relief from: " + ", ".join(
        f"{name[r.option]} on {r.latest.date} ({r.latest.relief_percent:g}%)" for r in found))


@check("no_prior_fusion")
def no_prior_fusion(ctx: Context) -> Verdict:
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    fused = ctx.facts.prior_fusions
    if fused:
        return Verdict("not_met", "fusion of this joint recorded on "
                       f"{', '.join(str(p.date) for p in fused)}: review the fusion instead")
    return Verdict("met", "no earlier fusion of this joint")


@check("differential_clear")
def differential_clear(ctx: Context) -> Verdict:
    state = differential_state(ctx.facts)
    if state.status == "open":
        return Verdict("not_met", f"still open: {', '.join(state.findings)}")
    if state.status == "undecided":
        return Verdict("unknown", f"not recorded: {', '.join(state.findings)}",
                       f"Record {', '.join(state.findings)}.")
    return Verdict("met", "no radicular, hip or inflammatory pattern")


@check("pain_at_least")
def pain_at_least(ctx: Context) -> Verdict:
    need = ctx.params["min_nrs"]
    history = ctx.facts.history
    nrs = history.pain_nrs if history else None
    return tri(None if nrs is None else nrs >= need, f"pain {nrs}/10 (at least {need})",
               f"pain {nrs}/10 (below {need})", "current pain (NRS) not recorded",
               "Record the current average pain, 0-10 (history.pain_nrs).")


def combine(statuses: list[str], covered: bool) -> str:
    """The combination law: not_covered, else not_met, else unknown, else met."""
    if not covered:
        return "not_covered"
    for status in ("not_met", "unknown"):
        if status in statuses:
            return status
    return "met"


# Distinct verdicts one criterion (or one option) keeps results for before starting afresh.
SHELF_SIZE = 4096


@dataclass(frozen=True, eq=False)
class Step:
    """One criterion compiled for evaluation, built once per policy."""

    criterion: Criterion
    check: Check
    results: Shelf = field(default_factory=lambda: Shelf(SHELF_SIZE))

    def result(self, verdict: tuple) -> CriterionResult:
        """Results are immutable values, so equal verdicts share one rather than rebuild it."""
        found = self.results.get(verdict)
        if found is not None:
            return found
        status, detail, document, pending, none_before = verdict
        criterion = self.criterion
        if criterion.provisional:
            detail = f"Provisional rule: {detail}"
        return self.results.keep(verdict, CriterionResult(
            id=criterion.id, text=criterion.text, status=status, detail=detail,
            sources=criterion.sources, provisional=criterion.provisional, document=document,
            pending=pending, safety=criterion.check in SAFETY_CHECKS, none_before=none_before))


@dataclass(frozen=True, eq=False)
class OptionPlan:
    """One option of one policy with its compiled criteria."""

    policy: Policy
    option: Option
    steps: tuple[Step, ...]
    checks: tuple[int, ...]  # where each step's verdict stands among the policy's checks
    evidence: tuple[EvidenceLine, ...]
    results: Shelf = field(default_factory=lambda: Shelf(SHELF_SIZE))
    summaries: Shelf = field(default_factory=lambda: Shelf(SHELF_SIZE))

    def summary(self, text: str) -> Reason:
        """The option's one-line reason depends on its counts alone, so equal ones are shared."""
        found = self.summaries.get(text)
        if found is not None:
            return found
        return self.summaries.keep(text, because(
            f"eligibility.{self.policy.id}.{self.option.id}", text, self.option.sources))


def evidence_for(kb: Knowledge, option_id: str) -> tuple[EvidenceLine, ...]:
    """The guideline positions on the treatments behind an option, each once."""
    lines = {(p.source, p.position): EvidenceLine(source=p.source, position=p.position,
                                                  strength=p.strength)
             for t in kb.evidence.treatments if t.option == option_id
             for p in t.guideline_positions}
    return tuple(lines.values())


@dataclass(frozen=True, eq=False)
class PolicyPlan:
    """A policy compiled for evaluation: each distinct check once, and the options reading them."""

    checks: tuple[Step, ...]  # equal checks with equal parameters appear once
    options: tuple[OptionPlan, ...]


@shared(maxsize=64)
def plan(kb: Knowledge, policy_id: str) -> PolicyPlan:
    """The policy's options with their criteria resolved to checks, built once per policy."""
    policy = kb.policies[policy_id]
    where: dict[tuple[str, str], int] = {}  # equal check, equal parameters: one verdict
    checks: list[Step] = []
    options = []
    for option in policy.options:
        steps = tuple(Step(c, CHECKS[c.check]) for c in option.criteria)
        places = []
        for step in steps:
            key = (step.criterion.check, repr(step.criterion.params))
            places.append(where.setdefault(key, len(checks)))
            if places[-1] == len(checks):
                checks.append(step)
        options.append(OptionPlan(policy, option, steps, tuple(places),
                                  evidence_for(kb, option.id)))
    return PolicyPlan(tuple(checks), tuple(options))


def _option_result(entry: OptionPlan, verdicts: tuple[tuple, ...]) -> OptionResult:
    """An option's result follows from its criteria's verdicts alone, so equal ones are shared."""
    found = entry.results.get(verdicts)
    if found is not None:
        return found
    option, policy = entry.option, entry.policy
    criteria = [step.result(verdict) for step, verdict in zip(entry.steps, verdicts, strict=True)]
    statuses = [c.status for c in criteria]
    unknown = [c for c in criteria if c.status == "unknown" and c.document]
    unknown = [c for c in unknown if c.safety] + [c for c in unknown if not c.safety]
    stops = [c for c in criteria if c.status == "not_met" and c.safety]
    if not option.covered:
        text = f"{option.name} is not covered under policy {policy.id}" + (
            " (provisional: the exclusion was seen only in secondary sources)."
            if option.provisional else ".")
    else:
        text = (f"{option.name}: {statuses.count('met')} met, {statuses.count('not_met')} not "
                f"met, {statuses.count('unknown')} unknown under policy {policy.id}.")
        if stops:
            text += f" Stopped for safety: {'; '.join(c.text for c in stops)}."
    return entry.results.keep(verdicts, OptionResult(
        status=combine(statuses, option.covered), name=option.name, criteria=criteria,
        missing=tuple(dict.fromkeys(c.document for c in unknown)),
        stopped_by=tuple(c.id for c in stops), evidence=entry.evidence,
        provisional=option.provisional, reasons=[entry.summary(text)]))


def _worse(verdict: tuple, other: tuple) -> tuple:
    """Of two verdicts of one check, the one the combination law lets stand (`verdict` on a
    tie): read on the case and on its reviewed part, an unreviewed fact stops, never opens."""
    return other if combine([verdict[0], other[0]], True) != verdict[0] else verdict


def eligibility(f: Facts, policy: Policy, reviewed: Facts | None = None
                ) -> dict[str, OptionResult]:
    """Every option under `policy`; a check shared by several options runs once.

    With `reviewed` (the case without its unreviewed imports) each check takes the worse of
    its two verdicts: an unreviewed fact stops at once and never opens.
    Verdicts travel as plain tuples: as shelf keys they are then invisible to the collector.
    """
    compiled = plan(f.kb, policy.id)
    verdicts = [tuple(step.check(Context(f, policy, step.criterion.params)))
                for step in compiled.checks]
    if reviewed is not None:
        verdicts = [_worse(verdict, tuple(step.check(Context(reviewed, policy,
                                                            step.criterion.params))))
                    for step, verdict in zip(compiled.checks, verdicts, strict=True)]
    return {entry.option.id: _option_result(entry, tuple([verdicts[i] for i in entry.checks]))
            for entry in compiled.options}

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

from sijcare.engine.facts import Facts, combined_gaenslen, lasting_relief, positives, relief_percent
from sijcare.engine.memo import Shelf, shared
from sijcare.engine.reasons import because
from sijcare.knowledge import Criterion, Knowledge, Option, Policy
from sijcare.model.assessment import CriterionResult, EvidenceLine, OptionResult, Reason


class Verdict(NamedTuple):
    status: str  # met | not_met | unknown
    detail: str
    document: str | None = None
    pending: str | None = None  # not met yet only because time has not passed


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
    support = ctx.facts.radicular_support
    if support:
        return Verdict("not_met", f"radicular pattern: {', '.join(support)}")
    history, exam = ctx.facts.history, ctx.facts.exam
    if history and history.below_knee is False:
        return Verdict("met", "pain does not reach below the knee")
    if exam and exam.neuro_deficit is False and exam.straight_leg_raise == "negative":
        return Verdict("met", "no neurological deficit and straight-leg raise negative")
    return Verdict("unknown", "radicular signs not fully recorded",
                   "Record below_knee, neuro_deficit and the straight-leg raise.")


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
    wanted: list[str] = ctx.params["tests"]
    chosen = {t: combined_gaenslen(tests) if t == "gaenslen" else tests[t] for t in wanted}
    need = ctx.params["min_positive"]
    positive, performed = positives(chosen)
    missing = [t for t, r in chosen.items() if r is None]
    summary = f"{positive} positive of {len(wanted)} listed tests ({performed} performed)"
    if positive >= need:
        return Verdict("met", summary)
    if positive + len(missing) < need:
        return Verdict("not_met", f"{summary}; {need} can no longer be reached")
    return Verdict("unknown", f"{summary}; not performed: {', '.join(missing)}",
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
    """The latest counted block; with `joint_only`, the latest one into the joint itself."""
    threshold = ctx.params.get("threshold", ctx.policy.block_threshold)
    if ctx.facts.case.blocks is None:
        return BLOCKS_UNKNOWN
    joint = ctx.params.get("joint_only", False)
    latest = ctx.facts.latest_joint_block if joint else ctx.facts.latest_block
    if latest is None:
        return Verdict("not_met", "no image-guided intra-articular block on the complaint's side"
                       if joint else "no image-guided diagnostic block on the complaint's side")
    relief = ctx.facts.latest_relief if latest is ctx.facts.latest_block else relief_percent(
        latest)
    ok = relief >= threshold
    target = latest.target.replace("_", "-") + " " if latest.target else ""
    return Verdict("met" if ok else "not_met",
                   f"{target}block on {latest.date}: {relief:g}% relief "
                   f"({'at least' if ok else 'below'} {threshold:g}%)")


def _figure(value: float | None, unit: str) -> str:
    return "not recorded" if value is None else f"{value:g}{unit}"


@check("repeat_response")
def repeat_response(ctx: Context) -> Verdict:
    """A repeat needs the last one of its kinds to have given lasting relief; a first is met."""
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    kinds = tuple(ctx.params.get("kinds", ("steroid_injection",)))
    what = ctx.params.get("name", "steroid injection")
    given = ctx.facts.kinds(kinds)
    if not given:
        return Verdict("met", f"no previous {what}: a first treatment")
    last = given[-1]
    percent, weeks = ctx.params["percent"], ctx.params["weeks"]
    summary = (f"{what} on {last.date}: relief {_figure(last.relief_percent, '%')} for "
               f"{_figure(last.relief_weeks, ' weeks')} (needs {percent:g}% for {weeks:g} weeks)")
    ok = lasting_relief(last, percent, weeks)
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
        return Verdict("met", f"no previous {what}")
    last = given[-1]
    days = (ctx.facts.case.as_of - last.date).days
    summary = f"last {what} on {last.date}, {days} days ago (needs at least {need})"
    if days >= need:
        return Verdict("met", summary)
    return Verdict("not_met", summary,
                   pending=f"repeat possible from {last.date + timedelta(days=need)}")


@check("regenerative_series_limit")
def regenerative_series_limit(ctx: Context) -> Verdict:
    """No active regenerative series has reached the limit; an ended series starts afresh."""
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    limit = ctx.params["limit"]
    active = [s for s in ctx.facts.regenerative_series if s.active]
    if not active:
        return Verdict("met", "no active regenerative series")
    full = [s for s in active if s.injections >= limit]
    summary = "; ".join(f"{s.kind} series since {s.started}: {s.injections} injection(s)"
                        for s in active)
    return Verdict("not_met" if full else "met", f"{summary} (limit {limit})")


@check("not_pregnant")
def not_pregnant(ctx: Context) -> Verdict:
    patient = ctx.facts.case.patient
    if patient.pregnant is True:
        return Verdict("not_met", "pregnant: elective fluoroscopic and surgical procedures wait")
    if patient.pregnant is False:
        return Verdict("met", "not pregnant")
    if patient.sex == "male":
        return Verdict("met", "male patient")
    return Verdict("unknown", "pregnancy not recorded", "Record whether the patient is pregnant.")


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


@check("steroid_tried")
def steroid_tried(ctx: Context) -> Verdict:
    if ctx.facts.case.procedures is None:
        return PROCEDURES_UNKNOWN
    given = ctx.facts.steroid_injections
    return Verdict("met", f"{len(given)} steroid injection(s) recorded") if given else Verdict(
        "not_met", "no therapeutic steroid injection recorded")


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
        status, detail, document, pending = verdict
        criterion = self.criterion
        if criterion.provisional:
            detail = f"Provisional rule: {detail}"
        return self.results.keep(verdict, CriterionResult(
            id=criterion.id, text=criterion.text, status=status, detail=detail,
            sources=criterion.sources, provisional=criterion.provisional, document=document,
            pending=pending))


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
    missing = [c.document for c in criteria if c.status == "unknown" and c.document]
    if not option.covered:
        text = f"{option.name} is not covered under policy {policy.id}" + (
            " (provisional: the exclusion was seen only in secondary sources)."
            if option.provisional else ".")
    else:
        text = (f"{option.name}: {statuses.count('met')} met, {statuses.count('not_met')} not "
                f"met, {statuses.count('unknown')} unknown under policy {policy.id}.")
    return entry.results.keep(verdicts, OptionResult(
        status=combine(statuses, option.covered), name=option.name, criteria=criteria,
        missing=missing, evidence=entry.evidence, provisional=option.provisional,
        reasons=[entry.summary(text)]))


def eligibility(f: Facts, policy: Policy) -> dict[str, OptionResult]:
    """Every option under `policy`; a check shared by several options runs once.

    Verdicts travel as plain tuples: as shelf keys they are then invisible to the collector.
    """
    compiled = plan(f.kb, policy.id)
    verdicts = [tuple(step.check(Context(f, policy, step.criterion.params)))
                for step in compiled.checks]
    return {entry.option.id: _option_result(entry, tuple([verdicts[i] for i in entry.checks]))
            for entry in compiled.options}

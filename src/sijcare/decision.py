"""The decision an episode page leads with: the stage, its next step and what to record for it.

Pure functions over the engine's `Assessment` and the `Case` it was built from. Nothing is
decided here: the stage and every status are the engine's; this module picks which of them
the next step needs, in which order, and words the statuses honestly (a criterion that time
has not yet decided reads "pending", not "not met").
"""

from __future__ import annotations

from dataclasses import dataclass

from sijcare.knowledge import load_knowledge
from sijcare.labels import inline, label, words
from sijcare.model.assessment import Alert, Assessment, CriterionResult, OptionResult
from sijcare.model.case import Case
from sijcare.steps import NEXT_OPTIONS
from sijcare.stops import (
    STOPPED,
    alert_line,
    checklist_key,
    read_first,
    safety_facts,
    safety_stops,
    stop_line,
    stopped_because,
)

RED_FLAG_SCREEN = "Record the red-flag screen (none present is an answer too)."
# Stage reasons beside the stage's own why: what stops the option the stage points to, and an
# earlier fusion of the joint (ENGINE-RULES v3).
STAGE_NOTES = ("option_stopped", "prior_fusion")


@dataclass(frozen=True)
class CriterionView:
    """A criterion as the page shows it; `status` is a display status (see STATUS_WORDS)."""

    text: str
    status: str
    detail: str
    document: str | None
    provisional: bool
    sources: list[str]
    safety: bool = False  # guards the patient: a stop when not met, first to document if unknown


@dataclass(frozen=True)
class OptionView:
    id: str
    name: str
    status: str
    criteria: tuple[CriterionView, ...]
    reasons: tuple[str, ...]
    sources: list[str]
    next_step: bool
    evidence: tuple[object, ...] = ()
    stops: tuple[str, ...] = ()  # the not-met safety criteria with their findings, in words
    stopped: str | None = None  # "Stopped for safety: ..." (stops.stopped_because), or None


@dataclass(frozen=True)
class Summary:
    """The band at the top of the page: what a clinician reads in ten seconds."""

    stage: str
    stage_name: str
    stage_text: str
    why: str
    notes: tuple[str, ...]  # what stops the step's option, an earlier fusion (STAGE_NOTES)
    urgent: bool
    read_first: tuple[Alert, ...]  # blocking alerts, pregnancy, allergies: before any option
    options: tuple[OptionView, ...]
    closed: bool  # the step has options and none of them is open
    document: tuple[str, ...]
    follow_up: object | None
    facts: tuple[tuple[str, str], ...]


STATUS_WORDS = {"met": "Met", "not_met": "Not met", "unknown": "Unknown",
                "not_covered": "Not covered", "pending": "Pending",
                "none_before": "None before", "caution": "Review first", "stopped": STOPPED}
CLOSED = ("not_met", "not_covered", "stopped")


def stage_why(assessment: Assessment) -> str:
    """The stage's own reason in one line, without the stage's name and text repeated."""
    stage = next(s for s in load_knowledge().pathway.stages if s.id == assessment.stage)
    text = assessment.stage_reasons[0].text if assessment.stage_reasons else ""
    text = text.removeprefix(f"{stage.name}: ").removesuffix(stage.text).strip().rstrip(".")
    text = words(text)
    return text[:1].upper() + text[1:] + "." if text else ""


def stage_notes(assessment: Assessment) -> tuple[str, ...]:
    """The stage's other reasons a reader needs beside its why (STAGE_NOTES), in words."""
    return tuple(words(r.text) for r in assessment.stage_reasons if r.rule in STAGE_NOTES)


def _params(policy: str, option_id: str, criterion_id: str) -> tuple[str, dict]:
    option = next((o for o in load_knowledge().policies[policy].options if o.id == option_id),
                  None)
    found = next((c for c in option.criteria if c.id == criterion_id), None) if option else None
    return (found.check, found.params) if found else ("", {})


def criterion_view(c: CriterionResult, case: Case, policy: str, option_id: str) -> CriterionView:
    """Honest wording: "pending (...)" where only time stands between the criterion and a
    decision (the engine's `pending`), and no green "met" for a response to an earlier
    procedure when there was none."""
    status, detail = c.status, words(c.detail)
    if status == "not_met" and getattr(c, "pending", None):
        status, detail = "pending", f"pending ({words(c.pending)})"
    elif status == "met" and _none_before(case, policy, option_id, c.id):
        status = "none_before"
    document = words(c.document) if status == "unknown" and c.document else None
    return CriterionView(c.text, status, detail, document, c.provisional, c.sources, c.safety)


def _none_before(case: Case, policy: str, option_id: str, criterion_id: str) -> bool:
    """A response-to-the-last-procedure criterion with no such procedure recorded."""
    check, params = _params(policy, option_id, criterion_id)
    if check != "repeat_response" or case.procedures is None:
        return False
    kinds = params.get("kinds", ("steroid_injection",))
    return not any(p.kind in kinds for p in case.procedures)


def option_view(option_id: str, option: OptionResult, assessment: Assessment,
                case: Case) -> OptionView:
    stops = safety_stops(option)
    criteria = tuple(sorted((criterion_view(c, case, assessment.policy, option_id)
                             for c in option.criteria),
                            key=lambda v: checklist_key(v.status, v.safety)))
    status = option.status
    if stops:
        status = "stopped"  # a stop reads as one, with what stops it, never as a gap
    elif status == "not_met" and any(c.status == "pending" for c in criteria) and all(
            c.status != "not_met" for c in criteria):
        status = "pending"
    if option_id == "diagnostic_sij_injection" and assessment.block.result == "negative" \
            and status == "met":
        status = "caution"  # a repeat block after a negative one is no step forward
    reasons = tuple(words(r.text) for r in option.reasons) if not criteria else ()
    if status == "caution":
        reasons = (f"The latest block was negative ({assessment.block.relief_percent:g}% "
                   "relief): a repeat block is not the next step on the pathway; review "
                   "the other sources of pain first.", *reasons)
    if status in ("met", "caution") and (first := read_first(assessment.alerts)):
        # criteria met beside a blocking alert or an allergy warning is no green light (a
        # pregnancy stops every covered option itself, ENGINE-RULES v3)
        status = "caution"
        reasons = (*(f"Review first: {alert_line(a)}" for a in first), *reasons)
    return OptionView(option_id, option.name, status, criteria, reasons,
                      [s for r in option.reasons for s in r.sources],
                      option_id in NEXT_OPTIONS.get(assessment.stage, ()),
                      tuple(getattr(option, "evidence", None) or ()),
                      tuple(stop_line(c) for c in stops), stopped_because(option))


def options(assessment: Assessment, case: Case) -> tuple[OptionView, ...]:
    """Every option, the next step's first (in pathway order), then the rest as the policy lists."""
    views = [option_view(i, o, assessment, case) for i, o in assessment.eligibility.items()]
    return tuple(sorted(views, key=lambda v: not v.next_step))


def red_flags_unknown(case: Case) -> bool:
    return case.history is None or case.history.red_flags is None


def to_document(assessment: Assessment, case: Case,
                views: tuple[OptionView, ...]) -> tuple[str, ...]:
    """What to record for the next step only, once each: the red-flag screen first, then the
    safety facts the step's options wait for (pregnancy, the anticoagulation plan), then the
    rest; nothing for an option a safety criterion stops (recording for it would read as the
    way on)."""
    if assessment.stage == "urgent_referral":
        return ()  # the urgent work-up comes first; routine documentation waits for it
    open_ = [v for v in views if v.next_step and v.status != "not_covered" and not v.stops]
    found: list[str] = [RED_FLAG_SCREEN] if red_flags_unknown(case) else []
    found += [c.document for v in open_ for c in v.criteria if c.document and c.safety]
    if assessment.stage == "complete_examination":
        missing = [inline(t) for t, r in assessment.sij_likelihood.cluster.tests.items()
                   if r is None]
        found.append(f"Perform and record the missing provocation tests: {', '.join(missing)}.")
    elif assessment.stage == "conservative_care" and case.conservative_care is None:
        found.append("Record each course of conservative care with its dates (or none).")
    found += [c.document for v in open_ for c in v.criteria if c.document]
    if assessment.stage == "maintenance":
        found += [f"{label(p.point)} follow-up: record "
                  f"{', '.join(inline(i) for i in p.instruments)}."
                  for p in getattr(assessment, "follow_up", None) or [] if p.status == "due"]
    # The engine's own red-flag prompt says the same as ours, in other words: keep one.
    return tuple(dict.fromkeys(d for d in found
                               if d == RED_FLAG_SCREEN or "red-flag screen" not in d))


def next_follow_up(assessment: Assessment) -> object | None:
    """The follow-up point to act on: the first one due, else the next upcoming one."""
    points = getattr(assessment, "follow_up", None) or []
    return next((p for p in points if p.status == "due"),
                next((p for p in points if p.status == "upcoming"), None))


def summary(assessment: Assessment, case: Case, views: tuple[OptionView, ...]) -> Summary:
    stage = next(s for s in load_knowledge().pathway.stages if s.id == assessment.stage)
    step = tuple(v for v in views if v.next_step and v.status != "not_covered")
    return Summary(
        assessment.stage, stage.name, stage.text, stage_why(assessment),
        stage_notes(assessment), assessment.stage == "urgent_referral",
        tuple(read_first(assessment.alerts)), step,
        bool(step) and all(v.status in CLOSED for v in step),
        to_document(assessment, case, views), next_follow_up(assessment), safety_facts(case))

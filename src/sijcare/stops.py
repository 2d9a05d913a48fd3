"""What stands between an option and the patient, said the same way on every page and report.

The engine decides every status and marks which criteria guard the patient (`safety`); this
module only words it where a glance could mislead. A not-met safety criterion (a red flag,
pregnancy, an allergy, an anticoagulant without a plan, too many or too close steroid
injections, an ablation too soon, an earlier fusion, an open differential) stops the option:
it reads "Stopped for safety" with the criterion and its finding, never as one line among
many and never as "met, review first". An unknown safety fact (pregnancy not recorded, the
anticoagulation plan not documented) is the first thing to document. A met option beside a
blocking alert or an allergy warning (contrast, latex) reads "review first"; and the safety
facts of the record read "not recorded" where nobody asked, never "none".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sijcare.knowledge import load_knowledge
from sijcare.labels import inline, label, words
from sijcare.model.assessment import Alert, Assessment, CriterionResult, OptionResult
from sijcare.model.case import Case

NOT_RECORDED = "not recorded"
STOPPED = "Stopped for safety"  # an option a not-met safety criterion stops, everywhere
# A checklist reads what stops the option first, never a run of "met" above it.
CHECKLIST_ORDER = {"not_met": 0, "pending": 1, "unknown": 2}
Tone = Literal["stop", "not_covered", "incomplete", "review", "met"]


@dataclass(frozen=True)
class Verdict:
    """The first thing a packet says: whether the request is supported, and why."""

    tone: Tone
    headline: str
    lines: tuple[str, ...]


def safety_stops(option: OptionResult) -> list[CriterionResult]:
    """The option's not-met criteria that are safety stops, in the policy's order."""
    return [c for c in option.criteria if c.status == "not_met" and c.safety]


def checklist_rank(status: str) -> int:
    return CHECKLIST_ORDER.get(status, len(CHECKLIST_ORDER))


def checklist_key(status: str, safety: bool) -> tuple[int, bool]:
    """A checklist's order: not met, pending, unknown, met; within each, the criteria that
    guard the patient first (a stop before a gap, an unknown safety fact before paperwork)."""
    return checklist_rank(status), not safety


def stop_line(c: CriterionResult) -> str:
    """A stopping criterion and what the record shows, in clinical words."""
    return f"{c.text}: {words(c.pending or c.detail)}"


def stopped_because(option: OptionResult) -> str | None:
    """"Stopped for safety: ..." with each stopping criterion, or None if none stops it."""
    stops = safety_stops(option)
    return f"{STOPPED}: " + "; ".join(stop_line(c) for c in stops) if stops else None


def stopping_texts(option: OptionResult | Mapping[str, Any]) -> list[str]:
    """The texts of the criteria that stop an option, from the engine's result or from its
    JSON as a signed assessment keeps it (`stopped_by`; older copies have none)."""
    if isinstance(option, OptionResult):
        return [c.text for c in safety_stops(option)]
    ids = option.get("stopped_by") or ()
    return [c.get("text", "") for c in option.get("criteria") or [] if c.get("id") in ids]


def status_words(option: OptionResult | Mapping[str, Any]) -> str:
    """An option's status in a line: "Stopped for safety (...)" or the status's label."""
    stops = stopping_texts(option)
    if stops:
        return f"{STOPPED} ({'; '.join(stops)})"
    return label(option.status if isinstance(option, OptionResult) else option.get("status", ""))


# Warnings a reader must see before any option: a pregnancy (v3 also stops every covered
# option with it) and any allergy (contrast and latex only warn, beside options that can stay
# met: those read "review first").
READ_FIRST_WARNINGS = frozenset({"pregnancy", "allergy_conflict"})


def reads_first(severity: str, alert_id: str) -> bool:
    """Whether no option may be read without this alert: blocking, pregnancy or allergy."""
    return severity == "block" or alert_id in READ_FIRST_WARNINGS


def read_first(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if reads_first(a.severity, a.id)]


def alert_line(alert: Alert) -> str:
    return f"{label(alert.id)}: {words(alert.detail)}"


def verdict(option_id: str, assessment: Assessment) -> Verdict:
    """Supported or not, in one headline, with the reasons that decide it first."""
    option = assessment.eligibility[option_id]
    policy = load_knowledge().policies[assessment.policy].name
    if assessment.red_flags:
        flags = ", ".join(inline(f.id) for f in assessment.red_flags)
        covered = () if option.status != "not_covered" else (
            f"{policy} does not cover {option.name} either.",)
        return Verdict("stop", f"Not supported: a red flag ({flags}) needs urgent work-up "
                       "first. Do not send this request.",
                       covered + tuple(stop_line(c) for c in safety_stops(option)))
    if option.status == "not_covered":
        return Verdict("not_covered", f"Not supported: {policy} does not cover "
                       f"{option.name}.", tuple(words(r.text) for r in option.reasons))
    stops = safety_stops(option)
    if stops:
        return Verdict("stop", "Not supported: a safety criterion is not met. Do not send "
                       "this request.", tuple(stop_line(c) for c in stops))
    if option.status == "not_met":
        unmet = [c for c in option.criteria if c.status == "not_met"]
        return Verdict("stop", "Not supported as the record stands: "
                       f"{len(unmet)} criterion{'s' if len(unmet) != 1 else ''} not met.",
                       tuple(stop_line(c) for c in unmet))
    first = tuple(alert_line(a) for a in read_first(assessment.alerts))
    if option.status == "unknown":
        waits = any(c.status == "unknown" and c.safety for c in option.criteria)
        return Verdict("incomplete", "Not ready to send: a safety fact is not yet recorded; "
                       "document it first." if waits else
                       "Not ready to send: criteria not yet recorded.",
                       first + tuple(words(m) for m in option.missing))
    if first:
        return Verdict("review", "Criteria met on the record, but review these alerts "
                       "before sending:", first)
    return Verdict("met", "Criteria met on the record.", ())


def _listed(values: list[str] | None, none: str) -> str:
    if values is None:
        return NOT_RECORDED
    return ", ".join(inline(v) for v in values) or none


def _anticoagulation(case: Case) -> str:
    medications = case.medications
    taking = medications.anticoagulant if medications else None
    if taking is None:
        return NOT_RECORDED
    if not taking:
        return "none"
    plan = medications.anticoagulant_plan
    return ("anticoagulant, plan documented" if plan else "anticoagulant, no plan"
            if plan is False else "anticoagulant, plan not recorded")


def safety_facts(case: Case) -> tuple[tuple[str, str], ...]:
    """Red flags, pregnancy, allergies and anticoagulation (with its peri-procedural plan) as
    recorded; absent reads "not recorded"."""
    history = case.history
    facts = [("Red flags", _listed(history.red_flags if history else None, "none"))]
    if case.patient.sex != "male":
        pregnant = case.patient.pregnant
        facts.append(("Pregnancy", NOT_RECORDED if pregnant is None
                      else "pregnant" if pregnant else "not pregnant"))
    facts.append(("Allergies", _listed(case.allergies, "none known")))
    facts.append(("Anticoagulation", _anticoagulation(case)))
    return tuple(facts)

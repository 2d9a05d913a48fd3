"""The engine's assessment as CDS Hooks cards, worded as the episode page words it.

`patient-view`: the stage with its one-line why (and what to document for it), each
follow-up due or missed, each safety alert. `order-select`/`order-sign`: per option the
order asks for, its eligibility under the policy with what to document, and each safety
stop as a `critical` card the clinician may override with a reason. Every card has a summary
under 140 characters, Markdown detail ending with the rule, policy and versions, a source
and a SMART link to the episode; no value is ever empty. The call gives each its uuid
(feedback names it) as it writes its audit entry (`store.cds_hooks.card_uuids`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sijcare import __version__
from sijcare.decision import options as option_views
from sijcare.decision import stage_notes, stage_why, to_document
from sijcare.interop.fhir.ehr_case import REVIEW_RULE
from sijcare.knowledge import load_knowledge
from sijcare.knowledge.terminology import load_terminology
from sijcare.labels import inline, label, words
from sijcare.model.assessment import Assessment, OptionResult
from sijcare.model.case import Case
from sijcare.stops import STOPPED, alert_line, checklist_key, safety_stops, status_words, stop_line

SUMMARY_MAX = 139
INDICATOR = {"urgent_referral": "critical", "evaluate_other_source": "warning"}
ALERT_INDICATOR = {"block": "critical", "warn": "warning", "info": "info"}
STATUS = {"met": "Met", "not_met": "Not met", "unknown": "Unknown", "not_covered": "Not covered"}


@dataclass(frozen=True)
class Issued:
    """A card and what its audit entry says of it (the rule, the safety stop if one)."""

    card: dict[str, Any]
    rule: str
    stop: str | None = None


def shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1].rstrip() + "…"


def _footer(assessment: Assessment, rule: str) -> str:
    policy = load_knowledge().policies[assessment.policy].name
    return (f"\n\n---\nRule `{rule}` · policy {policy} · knowledge {assessment.knowledge_version}"
            f" · sijcare {__version__} · as of {assessment.as_of.isoformat()}\n\n"
            f"*{assessment.disclaimer}*")


def _card(public_url: str, assessment: Assessment | None, rule: str, summary: str,
          indicator: str, detail: str, **extra: Any) -> dict[str, Any]:
    footer = (_footer(assessment, rule) if assessment else
              f"\n\n---\nRule `{rule}` · sijcare {__version__}")
    return {
        "summary": shortened(summary), "indicator": indicator,
        "detail": detail.strip() + footer,
        "source": {"label": "sijcare SI-joint pathway", "url": f"{public_url}/learn/sources"},
        "links": [{"label": "Open the episode in sijcare", "url": f"{public_url}/smart/launch",
                   "type": "smart"}],
        **{k: v for k, v in extra.items() if v},
    }


def unusable(public_url: str, problems: list[str]) -> Issued:
    """The EHR's record makes no valid case (dates that cannot be, values out of range)."""
    detail = "The record cannot be assessed until these are corrected:\n\n" + "\n".join(
        f"- {p}" for p in problems)
    return Issued(_card(public_url, None, "case_problems",
                        f"sijcare cannot assess this record: {problems[0]}", "warning", detail),
                  "case_problems")


def _sources(ids: tuple[str, ...] | list[str]) -> str:
    return f" (sources: {', '.join(ids)})" if ids else ""


def stage_card(public_url: str, assessment: Assessment, case: Case) -> Issued:
    stage = next(s for s in load_knowledge().pathway.stages if s.id == assessment.stage)
    why = stage_why(assessment)
    views = option_views(assessment, case)
    lines = [f"**{stage.name}**: {stage.text}", why, *stage_notes(assessment), REVIEW_RULE]
    reasons = [f"- {words(r.text)} — rule `{r.rule}`{_sources(r.sources)}"
               for r in assessment.stage_reasons]
    if reasons:
        lines += ["**Why**", "\n".join(reasons)]
    if document := to_document(assessment, case, views):
        lines += ["**To document**", "\n".join(f"- {d}" for d in document)]
    rule = assessment.stage_reasons[0].rule if assessment.stage_reasons else assessment.stage
    summary = f"SIJ pathway: {stage.name}. {why}" if why else f"SIJ pathway: {stage.name}"
    card = _card(public_url, assessment, rule, summary,
                 INDICATOR.get(assessment.stage, "info"), "\n\n".join(x for x in lines if x))
    return Issued(card, rule)


def follow_up_cards(public_url: str, assessment: Assessment) -> list[Issued]:
    found = []
    for point in assessment.follow_up:
        if point.status not in ("due", "missed"):
            continue
        instruments = ", ".join(inline(i) for i in point.instruments)
        start, end = point.window
        summary = (f"{label(point.point)} follow-up {point.status}: record {instruments}")
        detail = (f"The {label(point.point)} follow-up was due on {point.due.isoformat()} "
                  f"(window {start.isoformat()} to {end.isoformat()}); it is **{point.status}**."
                  f"\n\nRecord: {instruments}.")
        found.append(Issued(_card(public_url, assessment, "follow_up", summary,
                                  "warning" if point.status == "missed" else "info", detail),
                            "follow_up"))
    return found


def alert_cards(public_url: str, assessment: Assessment) -> list[Issued]:
    return [Issued(_card(public_url, assessment, a.id, words(a.detail),
                         ALERT_INDICATOR[a.severity],
                         f"{alert_line(a)}{_sources(a.sources)}"), a.id)
            for a in assessment.alerts if a.severity in ("block", "warn")]


def patient_view(public_url: str, assessment: Assessment, case: Case) -> list[Issued]:
    return [stage_card(public_url, assessment, case), *alert_cards(public_url, assessment),
            *follow_up_cards(public_url, assessment)]


def _checklist(option: OptionResult) -> str:
    criteria = sorted(option.criteria, key=lambda c: checklist_key(c.status, c.safety))
    return "\n".join(f"- **{STATUS[c.status]}** {c.text}: {words(c.detail)}"
                     f"{_sources(c.sources)}" for c in criteria)


def _withdraw(option: OptionResult, orders: list[str]) -> list[dict[str, Any]]:
    """The stop's one suggestion: withdraw the draft orders that ask for the option."""
    if not orders:
        return []
    return [{"label": f"Withdraw the {option.name} order", "uuid": str(uuid.uuid4()),
             "isRecommended": True,
             "actions": [{"type": "delete", "resourceId": [order],
                          "description": f"Remove the draft order {order}"}
                         for order in orders]}]


def option_cards(public_url: str, assessment: Assessment, option_id: str,
                 orders: list[str]) -> list[Issued]:
    """The option's safety stops (critical, overridable, with the suggestion to withdraw
    the `orders` asking for it) and its eligibility."""
    option = assessment.eligibility[option_id]
    policy = load_knowledge().policies[assessment.policy].name
    reasons = load_terminology().override_reasons_codings()
    found = []
    for c in safety_stops(option):
        suggestions = _withdraw(option, orders)
        card = _card(public_url, assessment, option_id, f"{STOPPED}: {option.name}. {c.text}",
                     "critical",
                     f"**{STOPPED}: {option.name}**\n\n{stop_line(c)}{_sources(c.sources)}"
                     "\n\nGoing ahead needs a reason, which sijcare keeps for review.",
                     overrideReasons=reasons, suggestions=suggestions,
                     selectionBehavior="at-most-one" if suggestions else None)
        found.append(Issued(card, option_id, c.id))
    document = [c.document for c in option.criteria if c.document]
    lines = [f"**{option.name}** under {policy}: {status_words(option)}", _checklist(option)]
    if document:
        lines += ["**What to document**", "\n".join(f"- {d}" for d in dict.fromkeys(document))]
    lines.append(REVIEW_RULE)
    indicator = "info" if option.status == "met" and not found else "warning"
    found.append(Issued(_card(public_url, assessment, option_id,
                              f"{option.name} under {policy}: {status_words(option)}",
                              indicator, "\n\n".join(lines)), option_id))
    return found

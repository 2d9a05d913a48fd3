"""Safety alerts, most severe first: `block` stops an option, `warn` asks for a check."""

from __future__ import annotations

from sijcare.engine import facts
from sijcare.knowledge import Knowledge
from sijcare.model.assessment import Alert
from sijcare.model.case import Case

SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


def _same_side(complaint: str, injected: str | None) -> bool:
    """A bilateral injection or complaint counts for both sides; an unknown side counts too."""
    return complaint == "bilateral" or injected in (None, "bilateral", complaint)


def steroid_frequency(case: Case, kb: Knowledge) -> list[Alert]:
    limit = kb.safety.steroid_frequency_limit
    side = case.history.side if case.history else None
    if side is None:
        return []
    dates = {p.date for p in facts.procedures_of(case, "steroid_injection")
             if facts.in_window(case, p.date, limit.window_days) and _same_side(side, p.side)}
    count = len(dates)
    if count >= limit.block_at:
        severity = "block"
    elif count >= limit.warn_at:
        severity = "warn"
    else:
        return []
    return [Alert(id="steroid_frequency_limit", severity=severity, sources=limit.sources,
                  detail=f"{count} steroid injection dates on the {side} side in the rolling 12 "
                         f"months (warn at {limit.warn_at}, block at {limit.block_at}).")]


def steroid_interval(case: Case, kb: Knowledge) -> list[Alert]:
    limit = kb.safety.steroid_interval
    given = facts.procedures_of(case, "steroid_injection")
    if not given:
        return []
    days = (case.as_of - given[-1].date).days
    if days >= limit.min_weeks * 7:
        return []
    return [Alert(id="steroid_interval", severity=limit.severity, sources=limit.sources,
                  provisional=limit.provisional,
                  detail=f"Provisional rule: the last steroid injection was {days} days ago "
                         f"({given[-1].date}), under {limit.min_weeks:g} weeks.")]


def allergy_conflict(case: Case, kb: Knowledge) -> list[Alert]:
    limit = kb.safety.allergy_conflict
    severities = limit.severities or {}
    relevant = [a for a in case.allergies or [] if a in severities]
    if not relevant:
        return []
    worst = min((severities[a] for a in relevant), key=SEVERITY_ORDER.__getitem__)
    return [Alert(id="allergy_conflict", severity=worst, sources=limit.sources,
                  detail=f"Allergy to {', '.join(relevant)}: check the injectate, contrast and "
                         "guidance plan.")]


def _flag(case: Case, kb: Knowledge, alert_id: str, applies: bool, detail: str = "") -> list[Alert]:
    limit = getattr(kb.safety, alert_id)
    if not applies:
        return []
    return [Alert(id=alert_id, severity=limit.severity, sources=limit.sources,
                  detail=" ".join(part for part in (limit.text, detail) if part))]


def alerts(case: Case, kb: Knowledge) -> list[Alert]:
    flags = {f.id: f for f in kb.screening.red_flags}
    found = [
        Alert(id="red_flag", severity="block", sources=flags[flag].sources,
              detail=f"Red flag: {flags[flag].name} ({flags[flag].condition}).")
        for flag in dict.fromkeys(facts.red_flags(case) or [])
    ]
    unguided = facts.unguided_blocks(case)
    found += steroid_frequency(case, kb) + steroid_interval(case, kb)
    found += _flag(case, kb, "pregnancy", case.patient.pregnant is True)
    found += allergy_conflict(case, kb)
    found += _flag(case, kb, "anticoagulant",
                   bool(case.medications and case.medications.anticoagulant))
    found += _flag(case, kb, "block_not_image_guided", bool(unguided),
                   f"Not counted: {', '.join(str(b.date) for b in unguided)}.")
    return sorted(found, key=lambda a: SEVERITY_ORDER[a.severity])

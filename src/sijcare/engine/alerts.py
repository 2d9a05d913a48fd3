"""Safety alerts, most severe first: `block` stops an option, `warn` asks for a check."""

from __future__ import annotations

from datetime import timedelta

from sijcare.engine.courses import course_alerts
from sijcare.engine.facts import Facts
from sijcare.model.assessment import Alert

SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


def steroid_frequency(f: Facts) -> list[Alert]:
    """Steroid injection dates in the window, whatever their side or joint: systemic exposure
    adds up (ENGINE-RULES v3)."""
    limit = f.kb.safety.steroid_frequency_limit
    start = f.case.as_of - timedelta(days=limit.window_days)
    count = len({p.date for p in f.steroid_injections if start < p.date <= f.case.as_of})
    if count >= limit.block_at:
        severity = "block"
    elif count >= limit.warn_at:
        severity = "warn"
    else:
        return []
    return [Alert(id="steroid_frequency_limit", severity=severity, sources=limit.sources,
                  detail=f"{count} steroid injection dates, any side, in the last "
                         f"{limit.window_days} days (warn at {limit.warn_at}, block at "
                         f"{limit.block_at}).")]


def steroid_interval(f: Facts) -> list[Alert]:
    limit = f.kb.safety.steroid_interval
    given = f.steroid_injections
    if not given:
        return []
    days = (f.case.as_of - given[-1].date).days
    if days >= limit.min_weeks * 7:
        return []
    return [Alert(id="steroid_interval", severity=limit.severity, sources=limit.sources,
                  provisional=limit.provisional,
                  detail=f"Provisional rule: the last steroid injection was {days} days ago "
                         f"({given[-1].date}), under {limit.min_weeks:g} weeks.")]


def allergy_conflict(f: Facts) -> list[Alert]:
    limit = f.kb.safety.allergy_conflict
    severities = limit.severities or {}
    relevant = [a for a in f.case.allergies or [] if a in severities]
    if not relevant:
        return []
    worst = min((severities[a] for a in relevant), key=SEVERITY_ORDER.__getitem__)
    return [Alert(id="allergy_conflict", severity=worst, sources=limit.sources,
                  detail=f"Allergy to {', '.join(relevant)}: check the injectate, contrast and "
                         "guidance plan.")]


def _flag(f: Facts, alert_id: str, applies: bool, detail: str = "") -> list[Alert]:
    limit = getattr(f.kb.safety, alert_id)
    if not applies:
        return []
    return [Alert(id=alert_id, severity=limit.severity, sources=limit.sources,
                  detail=" ".join(part for part in (limit.text, detail) if part))]


def alerts(f: Facts) -> list[Alert]:
    flags = {flag.id: flag for flag in f.kb.screening.red_flags}
    found = [
        Alert(id="red_flag", severity="block", sources=flags[flag].sources,
              detail=f"Red flag: {flags[flag].name} ({flags[flag].condition}).")
        for flag in f.red_flags or []
    ]
    case, unguided = f.case, f.unguided_blocks
    found += steroid_frequency(f) + steroid_interval(f)
    found += _flag(f, "pregnancy", case.patient.pregnant is True)
    found += allergy_conflict(f)
    found += _flag(f, "anticoagulant", bool(case.medications and case.medications.anticoagulant))
    found += _flag(f, "block_not_image_guided", bool(unguided),
                   f"Not counted: {', '.join(str(b.date) for b in unguided)}.")
    found += _flag(f, "spa_age_unknown", f.spa_age_unknown)
    early = f.blocks_before_onset
    found += _flag(f, "blocks_before_onset", bool(early),
                   f"Onset {f.onset}; left out: {', '.join(str(b.date) for b in early)}.")
    found += _flag(f, "care_before_onset", bool(f.care_before_onset),
                   f"Onset {f.onset}; courses begun "
                   f"{', '.join(str(d) for d in f.care_before_onset)}.")
    found += course_alerts(f)
    return sorted(found, key=lambda a: SEVERITY_ORDER[a.severity])

"""Red flags and the referrals they trigger, plus the NICE NG65 spondyloarthritis rule."""

from __future__ import annotations

from sijcare.engine.facts import Facts
from sijcare.engine.reasons import because
from sijcare.model.assessment import RedFlagFinding, ReferralFinding


def red_flags(f: Facts) -> list[RedFlagFinding]:
    """One finding per recorded red flag, with the condition it points to."""
    known = {flag.id: flag for flag in f.kb.screening.red_flags}
    findings = []
    for flag_id in f.red_flags or []:
        flag = known[flag_id]
        findings.append(RedFlagFinding(id=flag_id, reasons=[because(
            f"red_flag.{flag_id}",
            f"{flag.name} may signal {flag.condition}; refer ({flag.referral}) before any "
            "SI-joint work-up.",
            flag.sources, red_flag=flag_id)]))
    return findings


def referrals(f: Facts) -> list[ReferralFinding]:
    """Urgent referrals for red flags first, then rheumatology per NG65."""
    by_id = {r.id: r for r in f.kb.screening.referrals}
    flags = {flag.id: flag for flag in f.kb.screening.red_flags}
    found: dict[str, list[str]] = {}
    for flag_id in f.red_flags or []:
        found.setdefault(flags[flag_id].referral, []).append(flag_id)
    result = [
        ReferralFinding(id=ref_id, action=by_id[ref_id].action, reasons=[because(
            f"referral.{ref_id}", f"{by_id[ref_id].text}: red flag(s) {', '.join(ids)}.",
            by_id[ref_id].sources, red_flags=ids)])
        for ref_id, ids in found.items()
    ]
    spa = spondyloarthritis(f)
    return [*result, spa] if spa else result


def spondyloarthritis(f: Facts) -> ReferralFinding | None:
    """NG65: pain begun before 45, lasting over 3 months; count features (4 refer, 3 test)."""
    rule = f.kb.screening.spondyloarthritis
    if f.history is None or f.history.spa_features is None:
        return None
    onset_age = f.onset_age
    lasted = f.pain_lasted(rule.duration_months_over, strictly=True)
    if onset_age is None or onset_age >= rule.onset_age_below or not lasted:
        return None
    features = sorted(set(f.history.spa_features))
    count = len(features)
    if count >= rule.refer_at:
        action = "refer"
    elif count == rule.test_hla_b27_at:
        action = "test_hla_b27"
    else:
        return None
    words = {"refer": "refer to rheumatology",
             "test_hla_b27": "test HLA-B27 and refer if positive"}[action]
    return ReferralFinding(id="rheumatology", action=action, reasons=[because(
        rule.id,
        f"Back pain began before age {rule.onset_age_below} and has lasted over "
        f"{rule.duration_months_over} months with {count} NG65 features "
        f"({', '.join(features)}): {words}.",
        rule.sources, features=features, onset_age=round(onset_age, 1))])

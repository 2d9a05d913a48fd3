"""Safety alerts: steroid frequency across sides, interval, pregnancy, allergy, anticoagulant,
and the v3 information alerts (NG65 age unknown, blocks and care before onset)."""

from __future__ import annotations

import pytest

from tests.conftest import alert_ids, make, run


def steroid(day, side="left"):
    """A steroid injection with 60% relief (its duration is left out: a recent one cannot
    have lasted 12 weeks, ENGINE-RULES v3)."""
    return {"date": day, "kind": "steroid_injection", "side": side, "relief_percent": 60}


def freq(result):
    return [s for i, s in alert_ids(result) if i == "steroid_frequency_limit"]


@pytest.mark.parametrize(("days", "expected"), [
    (["2026-01-01", "2026-03-01"], []),
    (["2026-01-01", "2026-03-01", "2026-05-01"], ["warn"]),
    (["2026-01-01", "2026-03-01", "2026-05-01", "2026-07-01"], ["block"]),
    (["2025-11-01", "2026-03-01", "2026-05-01", "2026-07-01"], ["warn"]),  # one outside window
    (["2026-03-01", "2026-03-01", "2026-05-01"], []),                     # dates, not entries
])
def test_steroid_frequency_counts_dates_in_window(days, expected):
    assert freq(run(make(procedures=[steroid(d) for d in days]))) == expected


def test_v3_every_side_counts_toward_the_steroid_frequency():
    """v3 "steroid_frequency_limit": systemic exposure adds up across joints (v2 counted the
    complaint's side only and gave no alert here)."""
    procedures = [steroid("2026-01-01", "right"), steroid("2026-03-01", "right"),
                  steroid("2026-05-01", "left")]
    assert freq(run(make(procedures=procedures))) == ["warn"]


def test_bilateral_injection_counts_for_both_sides():
    procedures = [steroid("2026-01-01", "bilateral"), steroid("2026-03-01", "bilateral"),
                  steroid("2026-05-01", "left")]
    assert freq(run(make(procedures=procedures))) == ["warn"]


def test_bilateral_complaint_counts_every_injection():
    procedures = [steroid("2026-01-01", "right"), steroid("2026-03-01", "left"),
                  steroid("2026-05-01", "right"), steroid("2026-07-01", "left")]
    assert freq(run(make(history__side="bilateral", procedures=procedures))) == ["block"]


def test_v3_frequency_alert_without_complaint_side():
    """v3: the alert no longer depends on `history.side` (v2 gave none without it)."""
    procedures = [steroid(d) for d in ("2026-01-01", "2026-03-01", "2026-05-01", "2026-07-01")]
    assert freq(run(make(history__side=..., procedures=procedures))) == ["block"]


@pytest.mark.parametrize(("day", "alerted"), [
    ("2026-09-07", True),   # 55 days
    ("2026-09-08", True),   # 54 days
    ("2026-09-06", False),  # 56 days: not less than 8 weeks
])
def test_steroid_interval(day, alerted):
    ids = alert_ids(run(make(procedures=[steroid(day)])))
    assert (("steroid_interval", "warn") in ids) is alerted


def test_steroid_interval_is_provisional():
    alert = next(a for a in run(make(procedures=[steroid("2026-10-01")])).alerts
                 if a.id == "steroid_interval")
    assert alert.provisional and "Provisional" in alert.detail


def test_pregnancy_warns():
    assert ("pregnancy", "warn") in alert_ids(run(make(patient__pregnant=True)))
    assert "pregnancy" not in [i for i, _ in alert_ids(run(make(patient__pregnant=...)))]


@pytest.mark.parametrize(("allergies", "expected"), [
    (["local_anesthetic"], [("allergy_conflict", "block")]),
    (["corticosteroid"], [("allergy_conflict", "warn")]),
    (["contrast"], [("allergy_conflict", "warn")]),
    (["contrast", "local_anesthetic"], [("allergy_conflict", "block")]),
    (["latex"], [("allergy_conflict", "warn")]),  # v3: latex warns
    ([], []),
])
def test_allergy_conflict_one_alert_at_worst_level(allergies, expected):
    found = [a for a in alert_ids(run(make(allergies=allergies))) if a[0] == "allergy_conflict"]
    assert found == expected


def test_anticoagulant_is_info():
    assert ("anticoagulant", "info") in alert_ids(run(make(medications__anticoagulant=True)))


def test_red_flag_alert_per_flag_and_ordering_by_severity():
    result = run(make(history__red_flags=["fever", "cancer_history"], patient__pregnant=True,
                      medications__anticoagulant=True))
    ids = alert_ids(result)
    assert ids[:2] == [("red_flag", "block"), ("red_flag", "block")]
    severities = [s for _, s in ids]
    assert severities == sorted(severities, key=["block", "warn", "info"].index)


def test_unguided_block_warns_once():
    blocks = [{"date": d, "guidance": "none", "pain_before": 8, "pain_after": 2}
              for d in ("2026-05-01", "2026-06-01")]
    ids = alert_ids(run(make(blocks=blocks)))
    assert ids.count(("block_not_image_guided", "warn")) == 1


def test_clean_case_has_no_alerts():
    assert run(make()).alerts == []

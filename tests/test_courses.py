"""Treatment courses (ENGINE-RULES v2): regenerative series, the latest ablation, their alerts."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sijcare.engine.series import regenerative_series
from sijcare.model import parse_case
from tests.conftest import alert_ids, make, run

AS_OF = date(2026, 11, 1)
POLICIES = ["medicare", "clinic"]


def ago(days: int) -> str:
    return (AS_OF - timedelta(days=days)).isoformat()


def shot(days_ago: int, kind: str = "prolotherapy", **fields) -> dict:
    return {"date": ago(days_ago), "kind": kind, **fields}


def courses(procedures: list[dict] | None, policy: str = "medicare") -> dict:
    result = run(make(procedures=... if procedures is None else procedures), policy)
    return result.model_dump(mode="json")["courses"]


def alerts_of(procedures: list[dict], policy: str = "medicare") -> dict[str, dict]:
    result = run(make(procedures=procedures), policy)
    return {a.id: a.model_dump() for a in result.alerts}


# --- the series ------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
def test_no_courses_without_regenerative_injections_or_ablations(policy):
    for procedures in (None, [], [shot(30, "steroid_injection")]):
        assert courses(procedures, policy) == {"regenerative": []}  # rfa absent, not null


def test_current_series_fields():
    got = courses([shot(100), shot(70), shot(40)])["regenerative"]
    assert got == [{"kind": "prolotherapy", "series_started": ago(100), "injections": 3,
                    "series_injections": 3, "last": ago(40), "next_window": [ago(12), ago(-2)],
                    "limit": 10, "active": True}]


def test_a_gap_of_more_than_70_days_starts_a_new_series():
    assert courses([shot(200), shot(130)])["regenerative"][0]["injections"] == 2  # 70 days
    current = courses([shot(201), shot(130)])["regenerative"][0]  # 71 days
    assert (current["series_started"], current["injections"]) == (ago(130), 1)


def test_same_date_injections_are_one_session():
    got = courses([shot(50, side="left"), shot(50, side="right"), shot(20)])["regenerative"][0]
    assert got["injections"] == 2


def test_kinds_are_separate_and_ordered_prolotherapy_then_prp():
    got = courses([shot(10, "prp"), shot(300), shot(20, "prp"), shot(40, "prp")])["regenerative"]
    assert [(c["kind"], c["injections"], c["active"]) for c in got] == [
        ("prolotherapy", 1, False), ("prp", 3, True)]


def test_active_until_70_days_after_the_last_injection():
    assert courses([shot(70)])["regenerative"][0]["active"] is True
    assert courses([shot(71)])["regenerative"][0]["active"] is False


def test_list_order_does_not_matter():
    shots = [shot(5), shot(90), shot(40), shot(200)]
    assert courses(shots) == courses(list(reversed(shots)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 700), min_size=1, max_size=14))
def test_property_series_partition_the_sessions(days_ago):
    case = parse_case(make(procedures=[shot(d) for d in days_ago]))
    series = regenerative_series(case)
    assert sum(s.injections for s in series) == len(set(days_ago))
    assert [s.active for s in series].count(True) <= 1
    for earlier, later in pairwise(series):
        assert (later.started - earlier.last).days > 70


# --- the latest ablation ---------------------------------------------------------------------

def test_rfa_reports_the_most_recent_ablation():
    got = courses([shot(400, "rfa_conventional", relief_percent=60, relief_weeks=20),
                   shot(100, "rfa_cooled", side="left", relief_percent=70, relief_weeks=14)])
    assert got["rfa"] == {"last": ago(100), "kind": "rfa_cooled", "side": "left",
                          "relief_percent": 70, "relief_weeks": 14, "repeat_from": ago(-82)}


def test_rfa_unrecorded_fields_are_null():
    got = courses([shot(10, "rfa_conventional")])["rfa"]
    assert (got["side"], got["relief_percent"], got["relief_weeks"]) == (None, None, None)


# --- alerts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
def test_series_limit_warns_at_10_in_an_active_series(policy):
    nine = [shot(30 + 30 * i) for i in range(9)]
    assert "regenerative_series_limit" not in alerts_of(nine, policy)
    ten = alerts_of([*nine, shot(30)], policy)  # same date as another: still 9 sessions
    assert "regenerative_series_limit" not in ten
    found = alerts_of([*nine, shot(29)], policy)["regenerative_series_limit"]
    assert (found["severity"], found["provisional"]) == ("warn", False)
    ended = [shot(80 + 30 * i) for i in range(10)]  # last injection 80 days ago
    assert "regenerative_series_limit" not in alerts_of(ended, policy)


@pytest.mark.parametrize("policy", POLICIES)
def test_interval_info_before_28_days(policy):
    found = alerts_of([shot(27)], policy)["regenerative_interval"]
    assert (found["severity"], found["provisional"]) == ("info", True)
    assert found["detail"].startswith("Provisional rule:")
    assert "regenerative_interval" not in alerts_of([shot(28)], policy)


@pytest.mark.parametrize("policy", POLICIES)
def test_early_nonresponse_reads_the_first_injection_of_an_active_series(policy):
    found = alerts_of([shot(60, relief_percent=29), shot(30, relief_percent=80)], policy)
    alert = found["regenerative_early_nonresponse"]
    assert (alert["severity"], alert["provisional"]) == ("warn", True)
    for shots in ([shot(60, relief_percent=30), shot(30, relief_percent=0)],  # first is 30
                  [shot(60), shot(30, relief_percent=0)],  # first not recorded
                  [shot(200, relief_percent=0), shot(100)],  # first of an ended series
                  [shot(90, relief_percent=0)]):  # inactive
        assert "regenerative_early_nonresponse" not in alerts_of(shots, policy), shots


def test_early_nonresponse_of_the_current_series_only():
    shots = [shot(300, relief_percent=10), shot(50, relief_percent=60), shot(20)]
    assert "regenerative_early_nonresponse" not in alerts_of(shots)


@pytest.mark.parametrize("policy", POLICIES)
def test_rfa_too_soon_before_182_days(policy):
    found = alerts_of([shot(181, "rfa_cooled")], policy)["rfa_too_soon"]
    assert found["severity"] == "info"
    assert "rfa_too_soon" not in alerts_of([shot(182, "rfa_conventional")], policy)
    latest_counts = [shot(100, "rfa_conventional"), shot(400, "rfa_cooled")]
    assert "rfa_too_soon" in alerts_of(latest_counts, policy)


def test_course_alerts_keep_severity_order():
    result = run(make(procedures=[shot(10, relief_percent=0), shot(20, "rfa_cooled")]))
    severities = [a.severity for a in result.alerts]
    assert severities == sorted(severities, key=["block", "warn", "info"].index)
    assert ("regenerative_early_nonresponse", "warn") in alert_ids(result)


def test_course_alerts_cite_sources():
    found = alerts_of([shot(10, relief_percent=0), shot(20, "rfa_cooled")])
    for alert_id in ("regenerative_interval", "regenerative_early_nonresponse", "rfa_too_soon"):
        assert found[alert_id]["sources"]


def test_every_course_alert_and_schedule_point_can_be_explained():
    from sijcare.explain import catalogue
    from sijcare.knowledge import load_knowledge

    rules = catalogue(load_knowledge())
    result = run(make(procedures=[shot(10, relief_percent=0), shot(20, "rfa_cooled")]))
    assert all(a.id in rules for a in result.alerts)
    assert all(f"follow_up.{p.point}" in rules for p in result.follow_up)
    assert {"regenerative_series", "rfa_repeat"} <= set(rules)


def test_course_and_schedule_sources_resolve_and_are_checked_at_load():
    from sijcare.knowledge import load_knowledge

    kb = load_knowledge()
    cited = dict.fromkeys(s for _, s in kb.cited())
    assert "ichom_lbp_2015" in cited  # the schedule rests on the ICHOM standard set
    for where in ("courses", "follow_up", "screen"):
        assert any(w.startswith(where) for w, _ in kb.cited()), where
    assert any(w.startswith("screen.sources.") for w, _ in kb.cited())

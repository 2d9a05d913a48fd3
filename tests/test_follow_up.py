"""The follow-up schedule (ENGINE-RULES v2): points, calendar months, windows, status, order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make, run

TABLE = ["baseline", "3m", "6m", "12m", "24m", "2w", "6w"]


def schedule(procedures, proms=(), as_of: str = "2026-11-01",
             policy: str = "medicare") -> list[dict]:
    data = make(as_of=as_of, procedures=procedures, proms=list(proms))
    return run(data, policy).model_dump(mode="json")["follow_up"]


def proc(day: str, kind: str = "steroid_injection") -> dict:
    return {"date": day, "kind": kind}


def prom(day: str, instrument: str) -> dict:
    if instrument == "odi":
        return {"date": day, "instrument": "odi", "answers": [1] * 10}
    return {"date": day, "instrument": instrument, "value": 2 if instrument == "pgic" else 5}


def by_point(entries: list[dict]) -> dict[str, dict]:
    return {e["point"]: e for e in entries if e["anchor"] == "treatment_start"}


@pytest.mark.parametrize("procedures", [None, []])
def test_no_procedures_no_schedule(procedures):
    data = make(procedures=... if procedures is None else procedures)
    assert run(data).model_dump(mode="json")["follow_up"] == []  # blocks get no schedule


def test_contract_example_six_months():
    entry = by_point(schedule([proc("2026-03-02")], as_of="2026-09-01"))["6m"]
    assert entry == {"point": "6m", "anchor": "treatment_start", "due": "2026-09-02",
                     "window": ["2026-08-19", "2026-09-30"],
                     "instruments": ["odi", "nrs", "pgic"], "status": "due"}


def test_treatment_start_points_use_calendar_months_and_the_earliest_procedure():
    points = by_point(schedule([proc("2026-10-01", "prp"), proc("2026-01-31", "rfa_cooled")]))
    assert {p: e["due"] for p, e in points.items()} == {
        "baseline": "2026-01-31", "3m": "2026-04-30", "6m": "2026-07-31", "12m": "2027-01-31",
        "24m": "2028-01-31"}
    assert points["baseline"]["window"] == ["2026-01-01", "2026-01-31"]
    assert points["baseline"]["instruments"] == ["odi", "nrs"]
    assert points["3m"]["window"] == ["2026-04-16", "2026-05-28"]


def test_leap_day_start():
    points = by_point(schedule([proc("2024-02-29")], as_of="2026-11-01"))
    assert (points["12m"]["due"], points["24m"]["due"]) == ("2025-02-28", "2026-02-28")


def test_procedure_points_for_each_session():
    entries = schedule([proc("2026-06-01"), proc("2026-06-01"), proc("2026-06-01", "prp"),
                        proc("2026-08-01")])
    sessions = [(e["point"], e["procedure_date"], e["procedure_kind"])
                for e in entries if e["anchor"] == "procedure"]
    assert sorted(sessions) == sorted([
        ("2w", "2026-06-01", "steroid_injection"), ("6w", "2026-06-01", "steroid_injection"),
        ("2w", "2026-06-01", "prp"), ("6w", "2026-06-01", "prp"),
        ("2w", "2026-08-01", "steroid_injection"), ("6w", "2026-08-01", "steroid_injection")])
    two = next(e for e in entries if e["point"] == "2w" and e["procedure_date"] == "2026-08-01")
    assert (two["due"], two["window"], two["instruments"]) == (
        "2026-08-15", ["2026-08-12", "2026-08-22"], ["nrs", "pgic"])
    six = next(e for e in entries if e["point"] == "6w" and e["procedure_date"] == "2026-08-01")
    assert (six["due"], six["window"]) == ("2026-09-12", ["2026-09-09", "2026-09-19"])
    assert all("procedure_date" not in e for e in entries if e["anchor"] == "treatment_start")


@pytest.mark.parametrize(("as_of", "status"), [
    ("2026-08-11", "upcoming"), ("2026-08-12", "due"), ("2026-08-22", "due"),
    ("2026-08-23", "missed")])
def test_status_by_where_as_of_falls(as_of, status):
    entries = schedule([proc("2026-08-01")], as_of=as_of)
    two = next(e for e in entries if e["point"] == "2w")
    assert two["status"] == status


@pytest.mark.parametrize(("days", "done"), [("2026-08-12", True), ("2026-08-22", True),
                                            ("2026-08-11", False), ("2026-08-23", False)])
def test_done_needs_every_instrument_inside_the_inclusive_window(days, done):
    entries = schedule([proc("2026-08-01")], [prom(days, "nrs"), prom(days, "pgic")])
    two = next(e for e in entries if e["point"] == "2w")
    assert (two["status"] == "done") is done


def test_done_needs_every_instrument():
    entries = schedule([proc("2026-08-01")], [prom("2026-08-15", "nrs")])
    assert next(e for e in entries if e["point"] == "2w")["status"] == "missed"
    entries = schedule([proc("2026-08-01")], [prom("2026-08-15", "nrs"), prom("2026-08-20",
                                                                              "pgic")])
    assert next(e for e in entries if e["point"] == "2w")["status"] == "done"


def test_baseline_done_with_odi_and_nrs_before_the_start():
    entries = schedule([proc("2026-08-01")], [prom("2026-07-02", "odi"), prom("2026-08-01",
                                                                              "nrs")])
    assert by_point(entries)["baseline"]["status"] == "done"
    entries = schedule([proc("2026-08-01")], [prom("2026-07-01", "odi"), prom("2026-08-01",
                                                                              "nrs")])
    assert by_point(entries)["baseline"]["status"] == "missed"


def test_done_overrides_upcoming_and_missed_alike():
    entries = schedule([proc("2026-10-20")], [prom("2026-10-20", "odi"), prom("2026-10-20",
                                                                              "nrs")],
                       as_of="2026-10-20")
    assert by_point(entries)["baseline"]["status"] == "done"
    assert by_point(entries)["3m"]["status"] == "upcoming"


def test_order_by_due_then_table_order_then_procedure_date():
    # the second session's 2w and the first session's 6w are both due on 2026-06-12
    entries = schedule([proc("2026-05-01"), proc("2026-05-29", "prp")])
    keys = [(e["due"], TABLE.index(e["point"]), e.get("procedure_date", "")) for e in entries]
    assert keys == sorted(keys)
    same_day = [(e["point"], e["procedure_date"]) for e in entries if e["due"] == "2026-06-12"]
    assert same_day == [("2w", "2026-05-29"), ("6w", "2026-05-01")]
    assert [e["point"] for e in entries][:2] == ["baseline", "2w"]


def test_same_due_same_point_ordered_by_procedure_date():
    # a 3m point and a 6w point never tie here; two 2w points tie only on one date by kind
    entries = schedule([proc("2026-05-01", "prp"), proc("2026-05-01")])
    two = [e["procedure_kind"] for e in entries if e["point"] == "2w"]
    assert two == ["steroid_injection", "prp"]  # the case format's order of kinds


def test_schedule_is_the_same_under_both_policies():
    procedures = [proc("2026-03-01"), proc("2026-06-01", "rfa_cooled")]
    assert schedule(procedures) == schedule(procedures, policy="clinic")


START = date(2026, 1, 15)
KINDS = ["steroid_injection", "prolotherapy", "prp", "rfa_conventional", "rfa_cooled",
         "mis_fusion"]


@given(st.lists(st.tuples(st.integers(0, 280), st.sampled_from(KINDS)), max_size=5),
       st.integers(1, 280), st.sampled_from(KINDS),
       st.lists(st.tuples(st.integers(-40, 290), st.sampled_from(["odi", "nrs", "pgic"])),
                max_size=6))
def test_property_a_later_procedure_never_moves_the_treatment_start_points(
        others, after, kind, taken):
    base = [proc(START.isoformat()),
            *(proc((START + timedelta(days=d)).isoformat(), k) for d, k in others)]
    proms = [prom((START + timedelta(days=d)).isoformat(), i) for d, i in taken]
    before = by_point(schedule(base, proms))
    added = by_point(schedule([*base, proc((START + timedelta(days=after)).isoformat(), kind)],
                              proms))
    assert added == before

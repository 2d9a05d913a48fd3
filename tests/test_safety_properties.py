"""Safety before availability (ENGINE-RULES v3), as properties over generated cases.

No option may read `met` while a fact that could make it unsafe is present or was never
recorded; fusion `met` implies every v3 fusion criterion; the surgical stage implies a failed
ladder, no open differential, no earlier fusion of the joint and no pregnancy. The facts are
read here from the case itself, in a few lines each, not through the engine's helpers.
Thousands of cases per policy run in the suite (`SAFETY_EXAMPLES`).
"""

from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from sijcare.engine.eligibility import CHECKS, Verdict
from sijcare.engine.facts import add_months
from tests.conftest import run
from tests.safety_strategies import AS_OF, safety_cases

EXAMPLES = int(os.environ.get("SAFETY_EXAMPLES", "5000"))
POLICIES = ["medicare", "clinic"]
INJECTIONS = ("diagnostic_sij_injection", "therapeutic_sij_injection", "sij_rfa",
              "regenerative_injection")
GUIDED = ("fluoroscopy", "ct", "ultrasound")


def _date(text: str) -> date:
    return date.fromisoformat(text)


def _age(case: dict) -> int | None:
    patient = case["patient"]
    if "birth_date" in patient:
        born = _date(patient["birth_date"])
        return AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))
    return patient.get("age")


def _onset(case: dict) -> date | None:
    onset = case.get("history", {}).get("pain_onset")
    return _date(onset) if onset else None


def _days_ago(entry: dict) -> int:
    return (AS_OF - _date(entry["date"])).days


def _same_joint(case: dict, entry: dict) -> bool:
    side, other = case.get("history", {}).get("side"), entry.get("side")
    return side is None or other is None or side == other or "bilateral" in (side, other)


def _relief_ongoing(p: dict) -> bool:
    return p.get("relief_percent", -1) >= 50 and p.get("relief_ongoing") is True


def unsafe(case: dict, option: str) -> list[str]:
    """Every fact in the case that could make `option` unsafe, present or unrecorded."""
    found = []
    history, patient = case.get("history", {}), case["patient"]
    flags = history.get("red_flags")
    if flags is None or flags:
        found.append("red-flag screen missing or positive")
    age = _age(case)
    if patient.get("pregnant") is True:
        found.append("pregnant")
    elif patient.get("pregnant") is None and patient.get("sex") != "male" and (
            age is None or 12 <= age <= 50):
        found.append("could be pregnant, not asked")
    allergies = case.get("allergies")
    if option in INJECTIONS and (allergies is None or "local_anesthetic" in allergies):
        found.append("local-anaesthetic allergy present or unrecorded")
    procedures = case.get("procedures")
    if procedures is None and option != "diagnostic_sij_injection":
        found.append("earlier procedures not recorded")
    procedures = procedures or []
    if option == "therapeutic_sij_injection":
        if allergies is None or "corticosteroid" in allergies:
            found.append("corticosteroid allergy present or unrecorded")
        steroids = [p for p in procedures if p["kind"] == "steroid_injection"]
        if any(_days_ago(p) < 56 for p in steroids):
            found.append("steroid injection under 56 days ago")
        if len({p["date"] for p in steroids if _days_ago(p) < 365}) >= 4:
            found.append("4 steroid dates in 12 months")
    if option in ("sij_rfa", "mis_sij_fusion"):
        medications = case.get("medications", {})
        taking = medications.get("anticoagulant")
        if taking is None or (taking and medications.get("anticoagulant_plan") is not True):
            found.append("anticoagulation unrecorded or without a plan")
    if option == "sij_rfa" and any(
            p["kind"] in ("rfa_conventional", "rfa_cooled") and _days_ago(p) < 182
            for p in procedures):
        found.append("ablation under 182 days ago")
    if option == "regenerative_injection" and any(
            p["kind"] in ("prolotherapy", "prp") and _days_ago(p) < 28 for p in procedures):
        found.append("regenerative injection under 28 days ago")
    if option == "mis_sij_fusion" and any(
            p["kind"] == "mis_fusion" and _same_joint(case, p) for p in procedures):
        found.append("this joint was fused before")
    return found


def ladder_failed(case: dict, policy: str) -> bool:
    """Every covered rung's latest guided procedure since onset failed; nothing still helps."""
    procedures = case.get("procedures") or []
    if any(_relief_ongoing(p) for p in procedures):
        return False
    onset = _onset(case)
    rungs = [("steroid_injection",)] + ([("rfa_conventional", "rfa_cooled")]
                                        if policy == "clinic" else [])
    for kinds in rungs:
        tried = sorted((p for p in procedures if p["kind"] in kinds
                        and p.get("guidance") in GUIDED
                        and (onset is None or _date(p["date"]) >= onset)),
                       key=lambda p: p["date"])
        if not tried:
            return False
        last = tried[-1]
        percent, weeks = last.get("relief_percent"), last.get("relief_weeks")
        failed = percent is not None and (percent < 50 or (
            weeks is not None and weeks < 12 and last.get("relief_ongoing") is not True))
        if not failed:
            return False
    return True


def differential_open(case: dict) -> bool:
    history, exam = case.get("history", {}), case.get("exam", {})
    radicular = history.get("below_knee") is True and (
        exam.get("neuro_deficit") is True or exam.get("straight_leg_raise") == "positive")
    return radicular or exam.get("hip_rotation_pain") is True


def differential_decided(case: dict) -> bool:
    history, exam = case.get("history", {}), case.get("exam", {})
    radicular_known = history.get("below_knee") is False or (
        exam.get("neuro_deficit") is False and exam.get("straight_leg_raise") == "negative")
    spa_age_known = len(history.get("spa_features") or []) < 3 or (
        _onset(case) is not None and _age(case) is not None)
    return radicular_known and exam.get("hip_rotation_pain") is False and spa_age_known


def concordant(case: dict) -> bool:
    """Two intra-articular sessions on different dates, each >= 75 % on a recorded side."""
    side = case.get("history", {}).get("side")
    onset = _onset(case)
    sessions: dict[str, list[dict]] = {}
    for b in case.get("blocks") or []:
        if (b["guidance"] in GUIDED and b.get("target") in (None, "intra_articular")
                and _same_joint(case, b) and (onset is None or _date(b["date"]) >= onset)):
            sessions.setdefault(b["date"], []).append(b)
    latest = [sessions[d] for d in sorted(sessions)[-2:]]
    if len(latest) < 2 or side is None:
        return False
    for day in latest:
        for b in day:
            if (b["pain_before"] - b["pain_after"]) / b["pain_before"] < 0.75:
                return False
    return all(b.get("side") in (side, "bilateral") for day in latest for b in day) if (
        side != "bilateral") else all(b.get("side") is not None for d in latest for b in d)


def fusion_ready(case: dict, policy: str) -> list[str]:
    """What the v3 fusion criteria need, each missing one named."""
    history = case.get("history", {})
    missing = []
    onset = _onset(case)
    if onset is None or add_months(onset, 6) > AS_OF:
        missing.append("6 months of pain")
    if history.get("pain_nrs") is None or history["pain_nrs"] < 5:
        missing.append("pain of 5 or more")
    if not concordant(case):
        missing.append("two concordant blocks")
    if not ladder_failed(case, policy):
        missing.append("a failed ladder")
    if differential_open(case) or not differential_decided(case):
        missing.append("a clear differential")
    return missing


SAFETY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check_invariants(case: dict, policy: str) -> None:
    """The three v3 invariants for one case under one policy."""
    result = run(case, policy)
    for option, found in result.eligibility.items():
        if found.status == "met":
            assert not unsafe(case, option), (policy, option, unsafe(case, option))
    if result.eligibility["mis_sij_fusion"].status == "met":
        assert not fusion_ready(case, policy), (policy, fusion_ready(case, policy))
    if result.stage == "surgical_evaluation":
        assert ladder_failed(case, policy), policy
        assert not differential_open(case), policy
        assert case["patient"].get("pregnant") is not True, policy
        assert "this joint was fused before" not in unsafe(case, "mis_sij_fusion"), policy


@SAFETY
@given(case=safety_cases())
def test_safety_before_availability(case):
    """Every generated case under both policies: `EXAMPLES` cases per policy."""
    for policy in POLICIES:
        check_invariants(case, policy)


def test_options_read_met_often_enough_for_the_invariants_to_bite():
    """A property that never meets a `met` option proves nothing: count them on a sample."""
    seen = {"met": 0, "fusion_met": 0, "surgical": 0, "cases": 0}

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(case=safety_cases())
    def sample(case):
        result = run(case, "clinic")
        seen["cases"] += 1
        seen["met"] += any(o.status == "met" for o in result.eligibility.values())
        seen["fusion_met"] += result.eligibility["mis_sij_fusion"].status == "met"
        seen["surgical"] += result.stage == "surgical_evaluation"

    sample()
    assert seen["met"] >= seen["cases"] // 20, seen
    assert seen["surgical"] >= 1, seen


@pytest.mark.parametrize(("check", "policy"), [("not_pregnant", "clinic"),
                                               ("anticoagulation_addressed", "clinic"),
                                               ("no_prior_fusion", "medicare"),
                                               ("repeat_interval", "clinic")])
def test_the_invariants_catch_an_engine_that_forgets_a_safety_check(monkeypatch, check, policy):
    """Break one safety check and the property must find a counterexample."""
    from sijcare.engine import memo

    monkeypatch.setitem(CHECKS, check, lambda ctx: Verdict("met", "broken on purpose"))
    memo.clear()

    @settings(max_examples=3000, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=[HealthCheck.too_slow])
    @given(case=safety_cases())
    def probe(case):
        check_invariants(case, policy)

    try:
        with pytest.raises(AssertionError):
            probe()
    finally:
        memo.clear()

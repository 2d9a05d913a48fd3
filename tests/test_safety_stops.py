"""Version 2 safety stops and pathway: red flags, pregnancy, allergy, side, target, ladder."""

from __future__ import annotations

import pytest

from sijcare.knowledge import load_knowledge
from tests.conftest import criterion, make, run

POLICIES = ["medicare", "clinic"]
OPTIONS = ["diagnostic_sij_injection", "therapeutic_sij_injection", "sij_rfa",
           "regenerative_injection", "mis_sij_fusion"]
LONG_CARE = [{"type": "physical_therapy", "start": "2026-01-01", "end": "2026-07-02"}]  # 26 w


def blk(day="2026-06-01", side="left", target="intra_articular", before=8, after=1,
        guidance="fluoroscopy"):
    data = {"date": day, "guidance": guidance, "pain_before": before, "pain_after": after}
    if side is not None:
        data["side"] = side
    if target is not None:
        data["target"] = target
    return data


def proc(kind="steroid_injection", day="2026-07-01", percent=None, weeks=None, ongoing=None):
    """An image-guided procedure (only guided ones are rungs tried, ENGINE-RULES v3)."""
    data = {"date": day, "kind": kind, "side": "left", "guidance": "fluoroscopy"}
    for key, value in (("relief_percent", percent), ("relief_weeks", weeks),
                       ("relief_ongoing", ongoing)):
        if value is not None:
            data[key] = value
    return data


def covered(policy: str) -> list[str]:
    profile = load_knowledge().policies[policy]
    return [o for o in OPTIONS if profile.option(o).covered]


# --- red flags stop every option ------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("flag", ["fever", "saddle_anesthesia", "cancer_history"])
def test_a_red_flag_stops_every_covered_option(policy, flag):
    result = run(make(history__red_flags=[flag]), policy)
    for option in covered(policy):
        assert criterion(result, option, "no_red_flags") == "not_met", option
        assert result.eligibility[option].status == "not_met", option


@pytest.mark.parametrize("policy", POLICIES)
def test_every_covered_option_reads_the_red_flag_screen(policy):
    result = run(make(), policy)
    for option in covered(policy):
        assert criterion(result, option, "no_red_flags") == "met", option
    unscreened = run(make(history__red_flags=...), policy)
    for option in covered(policy):
        assert criterion(unscreened, option, "no_red_flags") == "unknown", option


def test_not_covered_options_have_no_criteria():
    result = run(make(history__red_flags=["fever"]), "medicare")
    for option in ("sij_rfa", "regenerative_injection"):
        assert result.eligibility[option].status == "not_covered"
        assert result.eligibility[option].criteria == []


# --- pregnancy --------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
def test_pregnancy_stops_every_covered_option(policy):
    """v3: `not_pregnant` is on every covered option, injections included (v2 had it on fusion,
    RFA and regenerative injections only, and injections only warned)."""
    result = run(make(patient__pregnant=True), policy)
    for option in covered(policy):
        assert criterion(result, option, "not_pregnant") == "not_met"
        assert result.eligibility[option].status == "not_met"
    assert ("pregnancy", "warn") in [(a.id, a.severity) for a in result.alerts]


@pytest.mark.parametrize(("patient", "expected"), [
    ({"pregnant": False, "sex": "female"}, "met"),
    ({"pregnant": ..., "sex": "male"}, "met"),
    ({"pregnant": ..., "sex": "female", "birth_date": "1990-01-01"}, "unknown"),  # 36: could be
    ({"pregnant": ..., "sex": ..., "birth_date": "1990-01-01"}, "unknown"),
    ({"pregnant": ..., "sex": "female", "birth_date": "1970-01-01"}, "met"),  # 56: past the range
    ({"pregnant": True, "sex": "female"}, "not_met"),
])
def test_not_pregnant_criterion(patient, expected):
    """v3 "could be pregnant": not recorded, not male, aged 12 to 50 (or age unknown)."""
    data = make(patient__pregnant=patient["pregnant"], patient__sex=patient["sex"],
                patient__birth_date=patient.get("birth_date", "1970-01-01"))
    result = run(data, "clinic")
    for option in covered("clinic"):
        assert criterion(result, option, "not_pregnant") == expected
    assert next(c for c in result.eligibility["sij_rfa"].criteria
                if c.id == "not_pregnant").provisional


# --- local-anaesthetic allergy ----------------------------------------------------------------

LA_OPTIONS = ["diagnostic_sij_injection", "therapeutic_sij_injection", "sij_rfa",
              "regenerative_injection"]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(("allergies", "expected"), [
    (["local_anesthetic"], "not_met"), (["contrast", "local_anesthetic"], "not_met"),
    (..., "unknown"), ([], "met"), (["latex"], "met")])
def test_local_anaesthetic_allergy_stops_injections_and_rfa(policy, allergies, expected):
    result = run(make(allergies=allergies), policy)
    for option in (o for o in LA_OPTIONS if o in covered(policy)):
        assert criterion(result, option, "no_local_anesthetic_allergy") == expected, option
        if expected == "not_met":
            assert result.eligibility[option].status == "not_met"
    assert "no_local_anesthetic_allergy" not in [
        c.id for c in result.eligibility["mis_sij_fusion"].criteria]


# --- side -------------------------------------------------------------------------------------

def test_a_block_of_the_other_side_is_not_counted():
    result = run(make(blocks=[blk(side="right")]))
    assert result.block.result == "none"
    assert result.stage == "diagnostic_block"
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "not_met")


@pytest.mark.parametrize(("complaint", "side"), [
    ("left", "left"), ("left", "bilateral"), ("bilateral", "right"), (..., "right"),
    ("right", None)])
def test_matching_blocks_count(complaint, side):
    result = run(make(history__side=complaint, blocks=[blk(side=side)]))
    assert result.block.result == "confirmed"
    assert result.stage == "interventional_treatment"


def test_the_latest_block_is_the_latest_on_the_complaints_side():
    blocks = [blk("2026-06-01", side="left"), blk("2026-07-01", side="right", after=7)]
    result = run(make(blocks=blocks))
    assert (result.block.result, str(result.block.date)) == ("confirmed", "2026-06-01")


def test_the_session_limit_counts_blocks_of_any_side_once_per_date():
    other = [blk("2026-06-01", side="right"), blk("2026-07-01", side="right")]
    result = run(make(blocks=other))
    assert criterion(result, "diagnostic_sij_injection", "diagnostic_sessions_limit") == "not_met"
    same_day = [blk("2026-06-01", side="left"), blk("2026-06-01", side="right")]
    result = run(make(blocks=same_day))
    assert criterion(result, "diagnostic_sij_injection", "diagnostic_sessions_limit") == "met"


# --- target -----------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
def test_a_lateral_branch_block_does_not_confirm_for_steroid_or_fusion(policy):
    result = run(make(blocks=[blk(target="lateral_branch")], conservative_care=LONG_CARE), policy)
    assert result.block.result == "confirmed"
    assert result.stage == "interventional_treatment"
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "not_met")
    assert criterion(result, "mis_sij_fusion", "two_concordant_blocks") == "not_met"
    if policy == "clinic":
        for option in ("sij_rfa", "regenerative_injection"):
            assert criterion(result, option, "diagnostic_block_confirmed") == "met"


def test_steroid_reads_the_latest_intra_articular_block_the_stage_the_latest_of_any():
    blocks = [blk("2026-06-01", target=None), blk("2026-07-01", target="lateral_branch", after=7)]
    result = run(make(blocks=blocks))
    assert result.stage == "evaluate_other_source"
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == "met"


def test_block_criteria_unknown_only_when_blocks_are_not_recorded():
    result = run(make(blocks=...))
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "unknown")
    result = run(make(blocks=[]))
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "not_met")


# --- general rules ----------------------------------------------------------------------------

@pytest.mark.parametrize(("percent", "weeks", "expected"), [
    (30, None, "not_met"), (None, 8, "not_met"), (60, None, "unknown"), (None, 14, "unknown"),
    (None, None, "unknown"), (60, 14, "met"), (60, 8, "not_met")])
def test_a_two_field_criterion_fails_as_soon_as_one_recorded_field_fails(percent, weeks,
                                                                         expected):
    result = run(make(procedures=[proc(percent=percent, weeks=weeks)]))
    assert criterion(result, "therapeutic_sij_injection", "repeat_response") == expected


def test_relief_still_ongoing_short_of_the_weeks_is_pending():
    result = run(make(procedures=[proc(percent=70, weeks=8, ongoing=True)]))
    found = next(c for c in result.eligibility["therapeutic_sij_injection"].criteria
                 if c.id == "repeat_response")
    assert found.status == "not_met"
    assert found.pending and "8 weeks" in found.pending and "12" in found.pending
    finished = run(make(procedures=[proc(percent=70, weeks=8, ongoing=False)]))
    assert next(c for c in finished.eligibility["therapeutic_sij_injection"].criteria
                if c.id == "repeat_response").pending is None


def test_a_list_not_recorded_is_unknown_and_an_empty_one_is_none():
    absent = run(make(procedures=...), "clinic")
    empty = run(make(procedures=[]), "clinic")
    for option, cid in (("therapeutic_sij_injection", "repeat_response"),
                        ("sij_rfa", "rfa_repeat_response"), ("sij_rfa", "rfa_interval"),
                        ("regenerative_injection", "regenerative_series_limit")):
        assert criterion(absent, option, cid) == "unknown"
        assert criterion(empty, option, cid) == "met"


def test_same_date_steroid_injections_are_one_session():
    same = [proc(day=d) for d in ("2026-03-01", "2026-03-01", "2026-05-01", "2026-07-01")]
    result = run(make(procedures=same))
    assert criterion(result, "therapeutic_sij_injection", "therapeutic_sessions_limit") == "met"


# --- surgical evaluation over the covered ladder ----------------------------------------------

FAILED_STEROID = proc("steroid_injection", "2026-07-01", percent=20, weeks=4)


@pytest.mark.parametrize(("policy", "procedures", "stage"), [
    ("medicare", [FAILED_STEROID], "surgical_evaluation"),
    ("clinic", [FAILED_STEROID], "interventional_treatment"),  # RFA rung not tried
    ("clinic", [FAILED_STEROID, proc("rfa_cooled", "2026-08-01", 30, 10)], "surgical_evaluation"),
    ("clinic", [FAILED_STEROID, proc("rfa_conventional", "2026-08-01", 70, 13)],
     "interventional_treatment"),
    ("clinic", [FAILED_STEROID, proc("rfa_cooled", "2026-08-01", 70, 10, ongoing=True)],
     "maintenance"),
    ("clinic", [proc("rfa_cooled", "2026-06-01", 30, 10), FAILED_STEROID,
                proc("prp", "2026-09-01", 0, 0)], "surgical_evaluation"),
    ("medicare", [proc("steroid_injection", "2026-05-01", 20, 4),
                  proc("steroid_injection", "2026-07-01", 70, 14)], "interventional_treatment"),
    ("medicare", [proc("steroid_injection", "2026-07-01")], "interventional_treatment"),
    # v3: without a relief percent the rung has not failed (v2 read 6 weeks as a failure)
    ("medicare", [proc("steroid_injection", "2026-07-01", weeks=6)], "interventional_treatment"),
    ("medicare", [proc("prolotherapy", "2026-07-01", 10, 2)], "interventional_treatment"),
])
def test_surgical_evaluation_needs_every_covered_rung_failed(policy, procedures, stage):
    data = make(conservative_care=LONG_CARE, procedures=procedures)
    assert run(data, policy).stage == stage


def test_surgical_evaluation_not_proposed_while_a_later_rfa_works():
    data = make(conservative_care=LONG_CARE, procedures=[
        FAILED_STEROID, proc("rfa_cooled", "2026-09-01", 80, 6, ongoing=True)])
    assert run(data, "clinic").stage == "maintenance"


# --- clinic repeat-RFA criteria -----------------------------------------------------------------

@pytest.mark.parametrize(("ablation", "response", "interval"), [
    (proc("rfa_cooled", "2026-01-01", 70, 20), "met", "met"),
    (proc("rfa_conventional", "2026-06-01", 40, 20), "not_met", "not_met"),
    (proc("rfa_cooled", "2026-01-01", 40), "not_met", "met"),
    (proc("rfa_cooled", "2026-01-01", 70), "unknown", "met"),
])
def test_repeat_ablation(ablation, response, interval):
    result = run(make(procedures=[proc("steroid_injection", "2025-12-01"), ablation]), "clinic")
    assert criterion(result, "sij_rfa", "rfa_repeat_response") == response
    assert criterion(result, "sij_rfa", "rfa_interval") == interval
    assert result.eligibility["sij_rfa"].criteria[-1].provisional


def test_rfa_interval_boundary_is_182_days():
    at = run(make(procedures=[proc("rfa_cooled", "2026-05-03", 70, 20)]), "clinic")  # 182 days
    before = run(make(procedures=[proc("rfa_cooled", "2026-05-04", 70, 20)]), "clinic")  # 181
    assert criterion(at, "sij_rfa", "rfa_interval") == "met"
    assert criterion(before, "sij_rfa", "rfa_interval") == "not_met"
    assert next(c for c in before.eligibility["sij_rfa"].criteria
                if c.id == "rfa_interval").pending == "repeat possible from 2026-11-02"


def test_regenerative_series_limit_counts_the_active_series_only():
    ten = [proc("prolotherapy", f"2026-{m:02d}-{d:02d}") for m, d in
           [(6, 1), (6, 29), (7, 27), (8, 24), (9, 1), (9, 10), (9, 20), (10, 1), (10, 10),
            (10, 20)]]
    assert criterion(run(make(procedures=ten), "clinic"), "regenerative_injection",
                     "regenerative_series_limit") == "not_met"
    nine = ten[:-1]
    assert criterion(run(make(procedures=nine), "clinic"), "regenerative_injection",
                     "regenerative_series_limit") == "met"
    twice_a_day = [*nine, proc("prolotherapy", "2026-10-10")]
    assert criterion(run(make(procedures=twice_a_day), "clinic"), "regenerative_injection",
                     "regenerative_series_limit") == "met"
    ended = run(make(as_of="2027-01-15", procedures=ten), "clinic")  # 87 days after the last
    assert criterion(ended, "regenerative_injection", "regenerative_series_limit") == "met"


# --- evidence -----------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
def test_every_option_carries_guideline_evidence(policy):
    kb = load_knowledge()
    result = run(make(), policy)
    for option_id, option in result.eligibility.items():
        assert option.evidence, option_id
        for line in option.evidence:
            assert line.source in kb.sources and line.position
    rfa = run(make(), "clinic").eligibility["sij_rfa"].evidence
    assert ("mccormick_2025", "strong") in [(e.source, e.strength) for e in rfa]
    regenerative = result.eligibility["regenerative_injection"].evidence
    assert ("mccormick_2025", "weak") in [(e.source, e.strength) for e in regenerative]

"""Eligibility per policy: each criterion's met / not_met / unknown, and the combination law."""

from __future__ import annotations

import pytest

from sijcare.engine.eligibility import combine
from tests.conftest import criterion, make, run

DX, TX, FUSION = "diagnostic_sij_injection", "therapeutic_sij_injection", "mis_sij_fusion"


def status(data, option, crit, policy="medicare"):
    return criterion(run(data, policy=policy), option, crit)


def test_base_case_diagnostic_injection_met():
    result = run(make())
    assert result.eligibility[DX].status == "met"
    assert [c.id for c in result.eligibility[DX].criteria] == [
        "pain_3_months", "location_below_l5", "no_radiculopathy", "other_causes_excluded",
        "provocation_3_positive", "conservative_4_weeks", "diagnostic_sessions_limit",
        "no_red_flags", "no_local_anesthetic_allergy", "not_pregnant"]


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, "met"),
    ({"history__pain_areas": ...}, "met"),
    ({"history__below_l5": False}, "not_met"),
    ({"history__below_l5": ...}, "unknown"),
    ({"history__pain_areas": {"axial_low_back": 100, "sij_region": 0}}, "not_met"),
    ({"history__pain_areas": {"axial_low_back": 100}}, "not_met"),
    ({"history__below_l5": ..., "history__pain_areas": {"axial_low_back": 100}}, "not_met"),
])
def test_location_below_l5(changes, expected):
    assert status(make(**changes), DX, "location_below_l5") == expected


@pytest.mark.parametrize(("changes", "expected"), [
    ({"history__below_knee": False}, "met"),
    ({"history__below_knee": True, "exam__neuro_deficit": True}, "not_met"),
    ({"history__below_knee": True, "exam__straight_leg_raise": "positive"}, "not_met"),
    ({"history__below_knee": True}, "met"),  # deficit false and SLR negative
    ({"history__below_knee": ..., "exam__neuro_deficit": False}, "met"),
    ({"history__below_knee": ..., "exam__straight_leg_raise": ...}, "unknown"),
    ({"history__below_knee": True, "exam__neuro_deficit": ...}, "unknown"),
])
def test_no_radiculopathy(changes, expected):
    assert status(make(**changes), DX, "no_radiculopathy") == expected


def mri(excludes, modality="mri"):
    item = {"date": "2026-03-01", "modality": modality, "region": "sij"}
    if excludes is not None:
        item["excludes_other_causes"] = excludes
    return item


@pytest.mark.parametrize(("imaging", "expected"), [
    ([mri(True)], "met"),
    ([mri(False), mri(True)], "met"),
    ([mri(False)], "not_met"),
    ([mri(None)], "unknown"),
    ([], "unknown"),
    (..., "unknown"),
    ([mri(True, "xray")], "met"),
])
def test_other_causes_excluded(imaging, expected):
    assert status(make(imaging=imaging), DX, "other_causes_excluded") == expected


@pytest.mark.parametrize(("imaging", "expected"), [
    ([mri(True)], "met"),
    ([mri(True, "ct")], "met"),
    ([mri(True, "xray")], "not_met"),  # only an X-ray where CT or MRI is required
    ([mri(None, "ct")], "unknown"),
    ([], "unknown"),
    ([mri(False, "ct")], "not_met"),
    ([mri(False, "xray"), mri(True, "mri")], "met"),
    (..., "unknown"),
])
def test_fusion_imaging_needs_ct_or_mri(imaging, expected):
    assert status(make(imaging=imaging), FUSION, "imaging_excludes_other") == expected


def prov(**results):
    return make(exam__provocation=results)


@pytest.mark.parametrize(("results", "expected"), [
    ({"faber": "positive", "thigh_thrust": "positive", "yeoman": "positive"}, "met"),
    # both Gaenslen sides positive count once
    ({"gaenslen_left": "positive", "gaenslen_right": "positive", "faber": "positive"}, "unknown"),
    ({"gaenslen_left": "positive", "gaenslen_right": "positive", "faber": "positive",
      "thigh_thrust": "negative", "compression": "negative", "distraction": "negative",
      "yeoman": "negative"}, "not_met"),
    # sacral thrust is not on the Medicare list
    ({"sacral_thrust": "positive", "distraction": "positive", "compression": "positive",
      "thigh_thrust": "negative", "faber": "negative", "yeoman": "negative",
      "gaenslen_left": "negative"}, "not_met"),
    ({"gaenslen_right": "negative", "faber": "negative", "thigh_thrust": "negative",
      "compression": "negative"}, "not_met"),   # 0 + 2 untested < 3
    ({"faber": "negative", "thigh_thrust": "negative", "compression": "negative"}, "unknown"),
    ({}, "unknown"),
])
def test_medicare_provocation_list(results, expected):
    assert status(prov(**results), DX, "provocation_3_positive") == expected


def test_fusion_provocation_list_excludes_yeoman():
    data = prov(yeoman="positive", faber="positive", thigh_thrust="positive",
                distraction="negative", compression="negative", gaenslen_left="negative")
    assert status(data, DX, "provocation_3_positive") == "met"
    assert status(data, FUSION, "provocation_3_positive") == "not_met"


def blk(day, guidance="fluoroscopy", before=8, after=1):
    return {"date": day, "guidance": guidance, "pain_before": before, "pain_after": after}


@pytest.mark.parametrize(("blocks", "expected"), [
    ([blk("2026-06-01")], "met"),
    ([blk("2026-06-01"), blk("2026-07-01")], "not_met"),
    ([blk("2025-11-01"), blk("2026-07-01")], "met"),   # first is exactly 365 days back: outside
    ([blk("2025-11-02"), blk("2026-07-01")], "not_met"),
    ([blk("2026-06-01", "none"), blk("2026-07-01")], "met"),  # unguided not counted
    ([], "met"),
    (..., "unknown"),
])
def test_diagnostic_sessions_limit(blocks, expected):
    assert status(make(blocks=blocks), DX, "diagnostic_sessions_limit") == expected


@pytest.mark.parametrize(("flags", "expected"), [([], "met"), (["fever"], "not_met"),
                                                 (..., "unknown")])
def test_no_red_flags(flags, expected):
    assert status(make(history__red_flags=flags), DX, "no_red_flags") == expected
    assert status(make(history__red_flags=flags), TX, "no_red_flags") == expected
    assert status(make(history__red_flags=flags), FUSION, "no_red_flags") == expected


@pytest.mark.parametrize(("blocks", "medicare", "clinic"), [
    ([blk("2026-06-01", before=10, after=2)], "met", "met"),
    ([blk("2026-06-01", before=10, after=4)], "not_met", "met"),
    ([blk("2026-06-01", before=10, after=6)], "not_met", "not_met"),
    ([blk("2026-06-01", "none")], "not_met", "not_met"),
    ([], "not_met", "not_met"),
    (..., "unknown", "unknown"),
])
def test_diagnostic_block_confirmed(blocks, medicare, clinic):
    """Fusion no longer reads one block (v3 "two_concordant_blocks", tests/test_engine_v3.py)."""
    data = make(blocks=blocks)
    assert status(data, TX, "diagnostic_block_confirmed") == medicare
    assert status(data, TX, "diagnostic_block_confirmed", "clinic") == clinic


def steroid(day, percent=None, weeks=None, side="left", kind="steroid_injection"):
    item = {"date": day, "kind": kind, "side": side}
    if percent is not None:
        item["relief_percent"] = percent
    if weeks is not None:
        item["relief_weeks"] = weeks
    return item


@pytest.mark.parametrize(("procedures", "expected"), [
    ([], "met"),
    ([steroid("2026-03-01", 50, 12)], "met"),
    ([steroid("2026-03-01", 49, 20)], "not_met"),
    ([steroid("2026-03-01", 80, 11)], "not_met"),
    ([steroid("2026-03-01", 80, 20), steroid("2026-06-01", 30, 4)], "not_met"),  # most recent
    ([steroid("2026-06-01", 30, 4), steroid("2026-03-01", 80, 20)], "not_met"),  # by date
    ([steroid("2026-03-01", 80)], "unknown"),
    ([steroid("2026-03-01", kind="prp", percent=10, weeks=1)], "met"),
    (..., "unknown"),
])
def test_repeat_response(procedures, expected):
    result = run(make(procedures=procedures))
    found = next(c for c in result.eligibility[TX].criteria if c.id == "repeat_response")
    assert found.status == expected
    assert found.provisional and found.detail.startswith("Provisional")


@pytest.mark.parametrize(("days", "expected"), [
    (["2026-02-01", "2026-04-01", "2026-06-01"], "met"),
    (["2026-02-01", "2026-04-01", "2026-06-01", "2026-08-01"], "not_met"),
    (["2025-11-01", "2026-04-01", "2026-06-01", "2026-08-01"], "met"),   # first outside window
    (["2026-04-01", "2026-04-01", "2026-06-01", "2026-08-01"], "met"),   # same date: one session
])
def test_therapeutic_sessions_limit(days, expected):
    data = make(procedures=[steroid(d, 60, 12) for d in days])
    assert status(data, TX, "therapeutic_sessions_limit") == expected


def test_therapeutic_sessions_unknown_without_procedures():
    assert status(make(procedures=...), TX, "therapeutic_sessions_limit") == "unknown"


def test_rfa_and_regenerative_not_covered_by_medicare():
    result = run(make())
    for option in ("sij_rfa", "regenerative_injection"):
        assert result.eligibility[option].status == "not_covered"
        assert result.eligibility[option].criteria == []


@pytest.mark.parametrize("option", ["sij_rfa", "regenerative_injection"])
def test_clinic_evaluates_rfa_and_regenerative(option):
    met = run(make(), policy="clinic").eligibility[option]
    extra = {"sij_rfa": ["anticoagulation_addressed", "rfa_repeat_response", "rfa_interval"],
             "regenerative_injection": ["regenerative_interval", "regenerative_response",
                                        "regenerative_series_limit"]}[option]
    assert [c.id for c in met.criteria] == [
        "diagnostic_block_confirmed", "conservative_4_weeks", "no_red_flags",
        "no_local_anesthetic_allergy", "not_pregnant", "pain_3_months", "no_radiculopathy",
        *extra]
    assert met.status == "met"
    assert run(make(conservative_care=...), policy="clinic").eligibility[option].status == (
        "unknown")
    assert run(make(blocks=[blk("2026-06-01", before=10, after=6)]),
               policy="clinic").eligibility[option].status == "not_met"


@pytest.mark.parametrize(("care", "expected"), [
    ([{"type": "physical_therapy", "start": "2026-01-01", "end": "2026-07-02"}], "met"),
    ([{"type": "physical_therapy", "start": "2026-01-01", "end": "2026-07-01"}], "not_met"),
    (..., "unknown"),
])
def test_nonoperative_26_weeks(care, expected):
    assert status(make(conservative_care=care), FUSION, "nonoperative_6_months") == expected


@pytest.mark.parametrize(("finger", "sulcus", "expected"), [
    (True, False, "met"), (False, True, "met"), (False, False, "not_met"),
    (False, ..., "unknown"), (..., False, "unknown"), (..., ..., "unknown"), (..., True, "met"),
])
def test_fortin_point(finger, sulcus, expected):
    data = make(history__fortin_finger=finger, exam__tenderness__sacral_sulcus=sulcus)
    assert status(data, FUSION, "fortin_point") == expected


@pytest.mark.parametrize(("value", "expected"), [(False, "met"), (True, "not_met"),
                                                 (..., "unknown")])
def test_no_generalized_pain_disorder(value, expected):
    data = make(history__generalized_pain_disorder=value)
    assert status(data, FUSION, "no_generalized_pain_disorder") == expected


def guided(item):
    return {**item, "guidance": "fluoroscopy"}


@pytest.mark.parametrize(("procedures", "expected"), [
    ([guided(steroid("2026-07-01", 60, 4))], "met"), ([], "not_met"),
    ([guided(steroid("2026-07-01", kind="prp"))], "not_met"), (..., "unknown"),
    ([steroid("2026-07-01", 60, 4)], "not_met"),  # unguided: not a rung tried
])
def test_ladder_failed_replaces_therapeutic_injection_tried(procedures, expected):
    """v3 "ladder_failed" replaces v2's "therapeutic_injection_tried" on fusion."""
    assert status(make(procedures=procedures), FUSION, "ladder_failed") == expected


def test_fusion_met_when_everything_documented():
    """v3: two concordant blocks, every covered rung failed under image guidance."""
    blocks = [{**blk("2026-05-01"), "side": "left", "target": "intra_articular"},
              {**blk("2026-06-01"), "side": "left", "target": "intra_articular"}]
    ablation = guided(steroid("2026-08-01", 30, 4, kind="rfa_cooled"))
    data = make(conservative_care=[{"type": "physical_therapy", "start": "2026-01-01"}],
                blocks=blocks, procedures=[guided(steroid("2026-07-01", 60, 4)), ablation])
    assert run(data).eligibility[FUSION].status == "met"
    assert run(data, policy="clinic").eligibility[FUSION].status == "met"


@pytest.mark.parametrize(("statuses", "covered", "expected"), [
    (["met", "not_met", "unknown"], False, "not_covered"),
    (["met", "not_met", "unknown"], True, "not_met"),
    (["met", "unknown"], True, "unknown"),
    (["met", "met"], True, "met"),
    ([], True, "met"),
])
def test_combination_law(statuses, covered, expected):
    assert combine(statuses, covered) == expected


def test_unknown_criteria_say_what_to_document():
    result = run(make(history__below_l5=..., imaging=...))
    option = result.eligibility[DX]
    assert option.status == "unknown"
    assert any("below_l5" in m for m in option.missing)
    assert all(c.document for c in option.criteria if c.status == "unknown")


def test_every_criterion_cites_sources():
    for policy in ("medicare", "clinic"):
        for option in run(make(), policy=policy).eligibility.values():
            assert option.reasons[0].sources
            assert all(c.sources for c in option.criteria)

"""Stage: the first rule that applies, in ENGINE-RULES order."""

from __future__ import annotations

import pytest

from tests.conftest import make, run

NEGATIVE_CLUSTER = {t: "negative" for t in ["distraction", "thigh_thrust", "compression",
                                            "sacral_thrust", "gaenslen_left", "gaenslen_right"]}


def block(before=8, after=1, day="2026-06-01", guidance="fluoroscopy"):
    return [{"date": day, "guidance": guidance, "pain_before": before, "pain_after": after}]


def proc(kind="steroid_injection", day="2026-07-01", percent=None, weeks=None, ongoing=None):
    """An image-guided procedure (only guided ones are rungs tried, ENGINE-RULES v3)."""
    data = {"date": day, "kind": kind, "side": "left", "guidance": "fluoroscopy"}
    for key, value in (("relief_percent", percent), ("relief_weeks", weeks),
                       ("relief_ongoing", ongoing)):
        if value is not None:
            data[key] = value
    return data


def test_base_case_is_interventional_treatment():
    assert run(make()).stage == "interventional_treatment"


@pytest.mark.parametrize("flag", ["saddle_anesthesia", "fever", "osteoporotic_fracture_risk"])
def test_any_red_flag_is_urgent_referral_whatever_else(flag):
    assert run(make(history__red_flags=[flag], blocks=block(8, 8))).stage == "urgent_referral"


def test_negative_block_means_other_source_even_with_positive_cluster():
    assert run(make(blocks=block(8, 6))).stage == "evaluate_other_source"


def test_negative_cluster_without_block_means_other_source():
    assert run(make(blocks=[], exam__provocation=NEGATIVE_CLUSTER)).stage == "evaluate_other_source"


def test_negative_cluster_with_one_confirmed_block_needs_a_second_block():
    """v3 stage 6: exam and block disagree, so a second confirming block comes first (v2 went
    on to interventional treatment)."""
    data = make(exam__provocation=NEGATIVE_CLUSTER)
    assert run(data).stage == "diagnostic_block"
    twice = make(exam__provocation=NEGATIVE_CLUSTER,
                 blocks=block(day="2026-05-01") + block(day="2026-06-01"))
    assert run(twice).stage == "interventional_treatment"


def test_incomplete_cluster_without_block_means_complete_examination():
    data = make(blocks=[], exam__provocation={"distraction": "positive"})
    assert run(data).stage == "complete_examination"


def test_unguided_block_does_not_count_for_examination_stage():
    data = make(blocks=block(guidance="none"), exam__provocation={"distraction": "positive"})
    assert run(data).stage == "complete_examination"


def test_care_unknown_or_short_means_conservative_care():
    assert run(make(conservative_care=...)).stage == "conservative_care"
    assert run(make(conservative_care=[])).stage == "conservative_care"


def test_conservative_care_comes_before_block_interpretation():
    data = make(conservative_care=[], blocks=block(10, 4))  # equivocal block
    assert run(data).stage == "conservative_care"


def test_no_block_or_equivocal_means_diagnostic_block():
    assert run(make(blocks=[])).stage == "diagnostic_block"
    assert run(make(blocks=block(10, 3))).stage == "diagnostic_block"
    assert run(make(blocks=block(10, 3)), policy="clinic").stage == "interventional_treatment"


def test_relief_ongoing_means_maintenance():
    data = make(procedures=[proc(percent=60, weeks=10, ongoing=True)])
    assert run(data).stage == "maintenance"


@pytest.mark.parametrize(("percent", "ongoing"), [(49, True), (60, False), (60, None)])
def test_not_ongoing_relief_is_not_maintenance(percent, ongoing):
    data = make(procedures=[proc(percent=percent, weeks=16, ongoing=ongoing)])
    assert run(data).stage == "interventional_treatment"


def test_maintenance_looks_only_at_the_most_recent_procedure():
    data = make(procedures=[proc(day="2026-09-01", percent=20, weeks=2),
                            proc(day="2026-07-01", percent=80, weeks=10, ongoing=True)])
    assert run(data).stage != "maintenance"


LONG_CARE = [{"type": "physical_therapy", "start": "2026-01-01", "end": "2026-07-02"}]  # 26 weeks


@pytest.mark.parametrize(("percent", "weeks", "stage"), [
    (40, 16, "surgical_evaluation"),       # too little relief
    (70, 8, "surgical_evaluation"),        # too short
    (70, 12, "interventional_treatment"),  # lasting relief
    (50, 11.9, "surgical_evaluation"),
    (None, None, "interventional_treatment"),  # relief not recorded: not a failure
])
def test_surgical_evaluation_after_failed_intervention(percent, weeks, stage):
    data = make(conservative_care=LONG_CARE, procedures=[proc(percent=percent, weeks=weeks)])
    assert run(data).stage == stage


def test_surgical_evaluation_needs_26_weeks_of_care():
    short = [{"type": "physical_therapy", "start": "2026-01-01", "end": "2026-07-01"}]  # 25.9
    data = make(conservative_care=short, procedures=[proc(percent=20, weeks=4)])
    assert run(data).stage == "interventional_treatment"


@pytest.mark.parametrize("kind", ["prolotherapy", "prp", "rfa_conventional", "rfa_cooled"])
def test_only_the_steroid_rung_counts_under_medicare(kind):
    """v2: RFA is not covered by Medicare and regenerative injections are no rung."""
    data = make(conservative_care=LONG_CARE, procedures=[proc(kind=kind, percent=10, weeks=2)])
    assert run(data).stage == "interventional_treatment"


def test_failed_fusion_does_not_count_as_failed_intervention():
    data = make(conservative_care=LONG_CARE, procedures=[proc(kind="mis_fusion", percent=10,
                                                               weeks=2)])
    assert run(data).stage == "interventional_treatment"


def test_stage_reason_names_rule_and_sources():
    reason = run(make()).stage_reasons[0]
    assert reason.rule == "stage.interventional_treatment"
    assert reason.sources


def test_surgical_evaluation_names_the_failed_rungs_and_the_provisional_rule():
    data = make(conservative_care=LONG_CARE, procedures=[proc(percent=20, weeks=4)])
    reason = run(data).stage_reasons[0].text
    assert "Therapeutic SIJ steroid injection since this pain began gave no lasting relief" in (
        reason)
    assert "provisional rule" in reason

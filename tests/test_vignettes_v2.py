"""Vignettes for ENGINE-RULES "Version 2 additions", one rule (or a small group) per test.

Each case is a dict built here from the shared complete, confirmed base case (tests/conftest),
bent to sit exactly on a boundary the rule names, validated as a `Case` and assessed under the
policy the rule speaks of. Comments cite the section of the rules; the assertions are what the
rule says, not what the engine happens to do.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from sijcare.engine import assess
from sijcare.engine.screen import self_screen
from sijcare.model import CaseError, parse_case
from sijcare.model.case import Case
from sijcare.model.screen import parse_screen
from tests.conftest import alert_ids, criterion, make
from tests.test_safety_stops import blk

POLICIES = ["medicare", "clinic"]
LONG_CARE = [{"type": "physical_therapy", "start": "2026-01-01", "end": "2026-07-02"}]  # 182 d
AS_OF = date(2026, 11, 1)


def ago(days: int) -> str:
    return (AS_OF - timedelta(days=days)).isoformat()


def assess_case(data: dict, policy: str = "medicare"):
    case = Case.model_validate(parse_case(data).model_dump())  # validated through Case
    return assess(case, policy=policy)




def proc(
    kind="steroid_injection", day="2026-07-01", percent=None, weeks=None, ongoing=None, side="left"
):
    """An image-guided procedure (v3: only guided procedures are rungs tried)."""
    data = {"date": day, "kind": kind, "guidance": "fluoroscopy"}
    if side is not None:
        data["side"] = side
    for key, value in (
        ("relief_percent", percent),
        ("relief_weeks", weeks),
        ("relief_ongoing", ongoing),
    ):
        if value is not None:
            data[key] = value
    return data


def status(result, option: str) -> str:
    return result.eligibility[option].status


def crit_ids(result, option: str) -> list[str]:
    return [c.id for c in result.eligibility[option].criteria]


def as_json(result) -> dict:
    return json.loads(result.model_dump_json())


# === General rules =============================================================================


# v2 general: calendar months clamp to the month's last day (2026-01-31 + 1 month = 2026-02-28)
@pytest.mark.parametrize(
    ("onset", "as_of", "expected"),
    [
        ("2026-07-31", "2026-10-31", "met"),  # + 3 months = 10-31
        ("2026-07-31", "2026-10-30", "not_met"),
        ("2026-08-31", "2026-11-30", "met"),  # + 3 months clamps to 11-30
        ("2026-08-31", "2026-11-29", "not_met"),
        ("2025-11-30", "2026-02-28", "met"),  # clamps to Feb 28
    ],
)
def test_pain_duration_counts_calendar_months_with_month_end_clamp(onset, as_of, expected):
    data = make(
        as_of=as_of,
        history__pain_onset=onset,
        blocks=[],
        procedures=[],
        proms=[],
        imaging=[],
        conservative_care=[],
    )
    assert criterion(assess_case(data), "diagnostic_sij_injection", "pain_3_months") == expected


# v2 general: an absent list is not recorded (every criterion reading it unknown);
# [] is none, and "met if none was given" applies to [] or to a list without that kind
@pytest.mark.parametrize("policy", POLICIES)
def test_absent_blocks_make_every_block_criterion_unknown(policy):
    result = assess_case(make(blocks=...), policy)
    assert criterion(result, "diagnostic_sij_injection", "diagnostic_sessions_limit") == "unknown"
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "unknown"
    )
    fusion = "two_concordant_blocks"  # v3: replaces diagnostic_block_75 / diagnostic_block_50
    assert criterion(result, "mis_sij_fusion", fusion) == "unknown"
    if policy == "clinic":
        for option in ("sij_rfa", "regenerative_injection"):
            assert criterion(result, option, "diagnostic_block_confirmed") == "unknown"
    empty = assess_case(make(blocks=[]), policy)
    assert criterion(empty, "diagnostic_sij_injection", "diagnostic_sessions_limit") == "met"
    assert criterion(empty, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "not_met"
    )
    assert criterion(empty, "mis_sij_fusion", fusion) == "not_met"


@pytest.mark.parametrize("policy", POLICIES)
def test_absent_procedures_make_every_procedure_criterion_unknown(policy):
    result = assess_case(make(procedures=...), policy)
    for option, cid in (
        ("therapeutic_sij_injection", "repeat_response"),
        ("therapeutic_sij_injection", "therapeutic_sessions_limit"),
        ("therapeutic_sij_injection", "steroid_interval"),  # v3 criteria reading procedures
        ("mis_sij_fusion", "ladder_failed"),  # v3: replaces therapeutic_injection_tried
        ("mis_sij_fusion", "no_prior_fusion"),
    ):
        assert criterion(result, option, cid) == "unknown", cid
    empty = assess_case(make(procedures=[]), policy)
    assert criterion(empty, "therapeutic_sij_injection", "repeat_response") == "met"
    assert criterion(empty, "therapeutic_sij_injection", "therapeutic_sessions_limit") == "met"
    assert criterion(empty, "mis_sij_fusion", "ladder_failed") == "not_met"


def test_a_list_without_entries_of_the_kind_counts_as_none_given():
    # v2 general: "met if none was given" applies to a list without entries of the kind
    result = assess_case(make(procedures=[proc("prp", ago(200), 10, 2)]), "clinic")
    assert criterion(result, "therapeutic_sij_injection", "repeat_response") == "met"
    assert criterion(result, "sij_rfa", "rfa_repeat_response") == "met"
    assert criterion(result, "sij_rfa", "rfa_interval") == "met"
    only_rfa = assess_case(make(procedures=[proc("rfa_cooled", ago(300), 80, 30)]), "clinic")
    assert criterion(only_rfa, "regenerative_injection", "regenerative_series_limit") == "met"
    assert criterion(only_rfa, "therapeutic_sij_injection", "repeat_response") == "met"
    assert criterion(only_rfa, "mis_sij_fusion", "ladder_failed") == "not_met"  # steroid untried


@pytest.mark.parametrize("policy", POLICIES)
def test_absent_allergies_are_unknown_and_empty_ones_met(policy):
    # v2 general + local-anaesthetic allergy rule
    absent = assess_case(make(allergies=...), policy)
    empty = assess_case(make(allergies=[]), policy)
    for option in ("diagnostic_sij_injection", "therapeutic_sij_injection"):
        assert criterion(absent, option, "no_local_anesthetic_allergy") == "unknown"
        assert status(absent, option) == "unknown"
        assert criterion(empty, option, "no_local_anesthetic_allergy") == "met"


# v2 general: a two-field criterion is not_met as soon as one recorded field fails
@pytest.mark.parametrize(
    ("percent", "weeks", "expected"),
    [
        (49, None, "not_met"),
        (None, 11, "not_met"),
        (50, None, "unknown"),
        (None, 12, "unknown"),
        (50, 12, "met"),
        (49.9, 12, "not_met"),
        (50, 11.9, "not_met"),
    ],
)
def test_two_field_repeat_ablation_response(percent, weeks, expected):
    # clinic rfa_repeat_response: relief_percent >= 50 and relief_weeks >= 12
    data = make(procedures=[proc("rfa_conventional", ago(400), percent, weeks)])
    assert criterion(assess_case(data, "clinic"), "sij_rfa", "rfa_repeat_response") == expected


@pytest.mark.parametrize("field", ["procedures", "blocks", "proms", "imaging"])
def test_a_date_after_as_of_is_invalid_and_as_of_itself_is_valid(field):
    # v2 general: any date after as_of is invalid input
    entries = {
        "procedures": lambda d: [proc(day=d)],
        "blocks": lambda d: [blk(day=d)],
        "proms": lambda d: [{"date": d, "instrument": "nrs", "value": 4}],
        "imaging": lambda d: [{"date": d, "modality": "mri", "excludes_other_causes": True}],
    }[field]
    parse_case(make(**{field: entries("2026-11-01")}))
    with pytest.raises(CaseError):
        parse_case(make(**{field: entries("2026-11-02")}))


def test_care_ending_or_pain_starting_after_as_of_is_invalid():
    with pytest.raises(CaseError):
        parse_case(
            make(conservative_care=[{"type": "nsaid", "start": "2026-10-01", "end": "2026-11-02"}])
        )
    with pytest.raises(CaseError):
        parse_case(make(history__pain_onset="2026-11-02"))


# v2 general: same-date entries are one session
def test_same_date_blocks_are_one_session_for_the_limit():
    data = make(blocks=[blk("2026-06-01"), blk("2026-06-01", side="right")])
    assert (
        criterion(assess_case(data), "diagnostic_sij_injection", "diagnostic_sessions_limit")
        == "met"
    )
    data = make(blocks=[blk("2026-06-01"), blk("2026-06-02", side="right")])
    assert (
        criterion(assess_case(data), "diagnostic_sij_injection", "diagnostic_sessions_limit")
        == "not_met"
    )


def test_same_date_same_kind_is_one_pair_of_procedure_points_other_kinds_their_own():
    data = make(
        procedures=[
            proc("prp", "2026-10-01"),
            proc("prp", "2026-10-01", side="right"),
            proc("steroid_injection", "2026-10-01"),
        ]
    )
    entries = as_json(assess_case(data))["follow_up"]
    procedure_points = [
        (e["point"], e["procedure_kind"]) for e in entries if e["anchor"] == "procedure"
    ]
    assert sorted(procedure_points) == sorted(
        [("2w", "prp"), ("6w", "prp"), ("2w", "steroid_injection"), ("6w", "steroid_injection")]
    )


# === Safety stops: side ========================================================================


def test_a_negative_block_of_the_other_side_does_not_send_to_another_source():
    # v2 side: only matching blocks are counted; the stage reads the latest counted one
    data = make(history__side="right", blocks=[blk(side="left", after=7)])
    result = assess_case(data)
    assert result.block.result == "none"
    assert result.stage == "diagnostic_block"


def test_a_left_block_does_not_confirm_right_pain_under_either_policy():
    for policy in POLICIES:
        result = assess_case(make(history__side="right", blocks=[blk(side="left")]), policy)
        assert result.block.result == "none"
        assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
            "not_met"
        )
        if policy == "clinic":
            assert criterion(result, "sij_rfa", "diagnostic_block_confirmed") == "not_met"


@pytest.mark.parametrize(
    ("complaint", "block_side", "counted"),
    [
        ("right", "bilateral", True),
        ("bilateral", "left", True),
        ("right", None, True),
        (..., "left", True),
        ("right", "right", True),
        ("right", "left", False),
        ("left", "right", False),
    ],
)
def test_block_matching_the_complaint(complaint, block_side, counted):
    data = make(history__side=complaint, blocks=[blk(side=block_side)])
    result = assess_case(data)
    assert (result.block.result == "confirmed") is counted


def test_the_session_limit_counts_blocks_of_the_other_side():
    # v2 side: diagnostic_sessions_limit counts image-guided blocks of any side, per date
    data = make(blocks=[blk("2026-03-01", side="right"), blk("2026-06-01", side="left")])
    result = assess_case(data)
    assert criterion(result, "diagnostic_sij_injection", "diagnostic_sessions_limit") == "not_met"
    assert result.block.result == "confirmed"
    # an unguided block is never counted, not even for the session limit
    data = make(blocks=[blk("2026-03-01", guidance="none"), blk("2026-06-01")])
    assert (
        criterion(assess_case(data), "diagnostic_sij_injection", "diagnostic_sessions_limit")
        == "met"
    )


# === Safety stops: target ======================================================================


@pytest.mark.parametrize("target", ["periarticular", "extra_articular", "lateral_branch"])
@pytest.mark.parametrize("policy", POLICIES)
def test_a_block_outside_the_joint_does_not_confirm_for_steroid_or_fusion(target, policy):
    result = assess_case(make(blocks=[blk(target=target)], conservative_care=LONG_CARE), policy)
    assert result.block.result == "confirmed"  # the stage reads any target
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "not_met"
    )
    assert criterion(result, "mis_sij_fusion", "two_concordant_blocks") == "not_met"
    if policy == "clinic":
        assert criterion(result, "sij_rfa", "diagnostic_block_confirmed") == "met"
        assert criterion(result, "regenerative_injection", "diagnostic_block_confirmed") == "met"


def test_an_intra_articular_block_of_the_other_side_is_not_read_by_steroid():
    # v2 target: reads the most recent *counted* intra-articular block
    blocks = [
        blk("2026-05-01", side="right", target="intra_articular"),
        blk("2026-06-01", side="left", target="lateral_branch"),
    ]
    result = assess_case(make(blocks=blocks), "clinic")
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "not_met"
    )
    assert criterion(result, "sij_rfa", "diagnostic_block_confirmed") == "met"


def test_steroid_reads_the_older_intra_articular_block_when_a_newer_lateral_branch_one_exists():
    blocks = [
        blk("2026-05-01", target="intra_articular", after=5),  # 37.5 %
        blk("2026-06-01", target="lateral_branch", after=1),
    ]  # 87.5 %
    result = assess_case(make(blocks=blocks), "clinic")
    # v3 discordance: a confirmed block right after a negative one reads equivocal, for the
    # stage and for every criterion reading blocks of any target (v2: confirmed, treatment)
    assert result.block.result == "equivocal"
    assert result.stage == "diagnostic_block"
    assert criterion(result, "therapeutic_sij_injection", "diagnostic_block_confirmed") == (
        "not_met"
    )
    assert criterion(result, "mis_sij_fusion", "two_concordant_blocks") == "not_met"
    assert criterion(result, "sij_rfa", "diagnostic_block_confirmed") == "not_met"


@pytest.mark.parametrize(
    ("after", "medicare", "clinic"),
    [
        (2, "met", "met"),  # 75 %: confirmed under both
        (3, "not_met", "met"),  # 62.5 %
        (4, "not_met", "met"),  # 50 %: exactly the clinic threshold
        (5, "not_met", "not_met"),  # 37.5 %
    ],
)
def test_steroid_block_criterion_at_each_policy_threshold(after, medicare, clinic):
    data = make(blocks=[blk(after=after)])
    assert (
        criterion(
            assess_case(data, "medicare"), "therapeutic_sij_injection", "diagnostic_block_confirmed"
        )
        == medicare
    )
    assert (
        criterion(
            assess_case(data, "clinic"), "therapeutic_sij_injection", "diagnostic_block_confirmed"
        )
        == clinic
    )


# === Safety stops: red flags, pregnancy, local-anaesthetic allergy =============================


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(
    ("flag", "referral"),
    [
        ("bowel_dysfunction", "emergency"),
        ("progressive_neuro_deficit", "emergency"),
        ("osteoporotic_fracture_risk", "urgent_workup"),
        ("iv_drug_use", "urgent_workup"),
    ],
)
def test_a_red_flag_stops_every_option_the_policy_covers(policy, flag, referral):
    result = assess_case(make(history__red_flags=[flag], procedures=[]), policy)
    assert result.stage == "urgent_referral"
    assert ("red_flag", "block") in alert_ids(result)
    assert (referral, "urgent") in [(r.id, r.action) for r in result.referrals]
    for option, found in result.eligibility.items():
        if found.status == "not_covered":
            continue
        assert criterion(result, option, "no_red_flags") == "not_met", option
        assert found.status == "not_met", option
    if policy == "medicare":
        assert status(result, "sij_rfa") == "not_covered"
        assert status(result, "regenerative_injection") == "not_covered"


@pytest.mark.parametrize("policy", POLICIES)
def test_pregnancy_stops_elective_procedures_and_keeps_the_injection_warning(policy):
    result = assess_case(make(patient__pregnant=True), policy)
    assert ("pregnancy", "warn") in alert_ids(result)
    assert criterion(result, "mis_sij_fusion", "not_pregnant") == "not_met"
    assert status(result, "mis_sij_fusion") == "not_met"
    # v3: the injections carry not_pregnant too (v2 kept them met beside the warning)
    for option in ("diagnostic_sij_injection", "therapeutic_sij_injection"):
        assert criterion(result, option, "not_pregnant") == "not_met"
        assert status(result, option) == "not_met"
    if policy == "clinic":
        for option in ("sij_rfa", "regenerative_injection"):
            assert criterion(result, option, "not_pregnant") == "not_met"
            assert status(result, option) == "not_met"
    else:
        assert status(result, "sij_rfa") == "not_covered"


@pytest.mark.parametrize(
    ("sex", "pregnant", "expected"),
    [
        ("male", ..., "met"),
        ("female", False, "met"),
        ("female", ..., "unknown"),
        ("other", ..., "unknown"),
        ("unknown", ..., "unknown"),
        ("female", True, "not_met"),
    ],
)
def test_not_pregnant_for_fusion_under_medicare(sex, pregnant, expected):
    # v3 "could be pregnant" needs an age from 12 to 50 (or none): the base patient is 56
    data = make(patient__sex=sex, patient__pregnant=pregnant, patient__birth_date="1990-01-01")
    result = assess_case(data, "medicare")
    assert criterion(result, "mis_sij_fusion", "not_pregnant") == expected


@pytest.mark.parametrize("policy", POLICIES)
def test_local_anaesthetic_allergy_stops_every_covered_injection_and_blocks(policy):
    result = assess_case(make(allergies=["local_anesthetic"]), policy)
    options = ["diagnostic_sij_injection", "therapeutic_sij_injection"]
    if policy == "clinic":
        options += ["sij_rfa", "regenerative_injection"]
    for option in options:
        assert criterion(result, option, "no_local_anesthetic_allergy") == "not_met"
        assert status(result, option) == "not_met"
    assert "no_local_anesthetic_allergy" not in crit_ids(result, "mis_sij_fusion")
    assert [a for a in alert_ids(result) if a[0] == "allergy_conflict"] == [
        ("allergy_conflict", "block")
    ]


@pytest.mark.parametrize(
    ("allergies", "severity"),
    [
        (["contrast"], "warn"),
        (["corticosteroid"], "warn"),
        (["contrast", "local_anesthetic"], "block"),
        (["latex"], "warn"),  # v3: latex warns
    ],
)
def test_allergy_conflict_is_one_alert_at_the_worst_level(allergies, severity):
    result = assess_case(make(allergies=allergies))
    found = [a for a in alert_ids(result) if a[0] == "allergy_conflict"]
    assert found == ([] if severity is None else [("allergy_conflict", severity)])


# === Surgical evaluation over the covered ladder ===============================================

FAILED_STEROID = proc("steroid_injection", "2026-07-01", 20, 4)


@pytest.mark.parametrize(
    ("care_end", "stage"),
    [
        ("2026-07-02", "surgical_evaluation"),  # 182 days = 26 weeks
        ("2026-07-01", "interventional_treatment"),  # 181 days
    ],
)
def test_surgical_evaluation_needs_26_weeks_of_care(care_end, stage):
    care = [{"type": "physical_therapy", "start": "2026-01-01", "end": care_end}]
    data = make(conservative_care=care, procedures=[FAILED_STEROID])
    assert assess_case(data, "medicare").stage == stage


@pytest.mark.parametrize(
    ("percent", "weeks", "stage"),
    [
        (50, 12, "interventional_treatment"),  # lasting at both thresholds: not failed
        (49, 18, "surgical_evaluation"),
        (80, 11, "surgical_evaluation"),
        (None, None, "interventional_treatment"),  # neither recorded: not failed
        (80, None, "interventional_treatment"),
        (None, 11, "interventional_treatment"),  # v3: no relief percent, outcome unknown
    ],
)
def test_the_steroid_rung_fails_below_50_percent_or_12_weeks(percent, weeks, stage):
    data = make(
        conservative_care=LONG_CARE,
        procedures=[proc("steroid_injection", "2026-07-01", percent, weeks)],
    )
    assert assess_case(data, "medicare").stage == stage


@pytest.mark.parametrize(
    ("procedures", "medicare", "clinic"),
    [
        # only the ablation failed: the steroid rung is untried under both
        (
            [proc("rfa_cooled", "2026-07-01", 20, 4)],
            "interventional_treatment",
            "interventional_treatment",
        ),
        # steroid failed; ablation not covered by medicare so not required there
        ([FAILED_STEROID], "surgical_evaluation", "interventional_treatment"),
        # both failed, the steroid on the other side (sides are not separated)
        (
            [
                proc("steroid_injection", "2026-05-01", 20, 4, side="right"),
                proc("rfa_conventional", "2026-06-01", 40, 20, ongoing=False),
            ],
            "surgical_evaluation",
            "surgical_evaluation",
        ),
        # ablation recorded with neither relief field: it has not failed
        (
            [FAILED_STEROID, proc("rfa_cooled", "2026-06-01")],
            "surgical_evaluation",
            "interventional_treatment",
        ),
        # an earlier failed ablation, the most recent worked (and is over)
        (
            [
                proc("rfa_cooled", "2025-11-15", 20, 4),
                FAILED_STEROID,
                proc("rfa_cooled", "2026-06-01", 80, 20, ongoing=False),
            ],
            "surgical_evaluation",
            "interventional_treatment",
        ),
        # regenerative injections neither count nor are required
        (
            [
                FAILED_STEROID,
                proc("rfa_cooled", "2026-06-01", 20, 4),
                proc("prolotherapy", "2026-08-01", 90, 13),
            ],
            "surgical_evaluation",
            "surgical_evaluation",
        ),
    ],
)
def test_surgical_evaluation_needs_each_covered_rung_to_have_failed(procedures, medicare, clinic):
    data = make(conservative_care=LONG_CARE, procedures=procedures)
    assert assess_case(data, "medicare").stage == medicare
    assert assess_case(data, "clinic").stage == clinic


def test_surgical_evaluation_needs_a_confirmed_intra_articular_block():
    # v3 stage 8: "the latest IA block is confirmed" (v2 read a block of any target)
    data = make(
        conservative_care=LONG_CARE,
        blocks=[blk(target="lateral_branch")],
        procedures=[FAILED_STEROID],
    )
    assert assess_case(data, "medicare").stage == "interventional_treatment"


def test_surgical_evaluation_not_before_the_block_is_confirmed():
    data = make(conservative_care=LONG_CARE, blocks=[blk(after=3)], procedures=[FAILED_STEROID])
    assert assess_case(data, "medicare").stage == "diagnostic_block"  # 62.5 %: equivocal
    assert assess_case(data, "clinic").stage == "interventional_treatment"


# === Evidence ==================================================================================


@pytest.mark.parametrize("policy", POLICIES)
def test_every_option_has_evidence_with_source_position_strength(policy):
    data = as_json(assess_case(make(), policy))
    for option, found in data["eligibility"].items():
        assert found["evidence"], option
        for line in found["evidence"]:
            assert set(line) >= {"source", "position", "strength"}
            assert isinstance(line["strength"], str) and line["strength"], (option, line)


# === Clinic: repeat ablation and regenerative series limit =====================================


@pytest.mark.parametrize(("days", "expected"), [(182, "met"), (181, "not_met"), (400, "met")])
def test_rfa_interval_is_182_days_from_the_most_recent_ablation(days, expected):
    procedures = [proc("rfa_cooled", ago(600), 80, 30), proc("rfa_conventional", ago(days), 80, 25)]
    result = assess_case(make(procedures=procedures), "clinic")
    assert criterion(result, "sij_rfa", "rfa_interval") == expected
    assert (
        ("rfa_too_soon", "info") in alert_ids(result)
        if expected == "not_met"
        else ("rfa_too_soon" not in [a for a, _ in alert_ids(result)])
    )


def test_rfa_repeat_response_reads_the_most_recent_ablation_of_either_kind():
    procedures = [proc("rfa_cooled", ago(700), 90, 40), proc("rfa_conventional", ago(300), 30, 20)]
    result = assess_case(make(procedures=procedures), "clinic")
    assert criterion(result, "sij_rfa", "rfa_repeat_response") == "not_met"
    assert status(result, "sij_rfa") == "not_met"
    procedures = [proc("rfa_conventional", ago(700), 30, 4), proc("rfa_cooled", ago(300), 60, 13)]
    result = assess_case(make(procedures=procedures), "clinic")
    assert criterion(result, "sij_rfa", "rfa_repeat_response") == "met"
    assert criterion(result, "sij_rfa", "rfa_interval") == "met"


def test_absent_procedures_make_the_repeat_rfa_criteria_unknown():
    result = assess_case(make(procedures=...), "clinic")
    assert criterion(result, "sij_rfa", "rfa_repeat_response") == "unknown"
    assert criterion(result, "sij_rfa", "rfa_interval") == "unknown"
    assert criterion(result, "regenerative_injection", "regenerative_series_limit") == "unknown"
    assert "rfa_repeat_response" not in crit_ids(assess_case(make(), "medicare"), "sij_rfa")


def _weekly(kind: str, first_days_ago: int, count: int, step: int = 28, **fields) -> list:
    return [
        proc(kind, ago(first_days_ago - i * step), side=None, **(fields if i == 0 else {}))
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("kind", "count", "expected", "alert"),
    # v3: prolotherapy and PRP form one series, so the 2 of the other kind count too
    [("prolotherapy", 8, "not_met", True), ("prp", 8, "not_met", True), ("prp", 7, "met", False)],
)
def test_regenerative_series_limit_at_10_injections_of_either_kind(kind, count, expected, alert):
    shots = _weekly(kind, 7 * (count - 1) + 30, count, step=7)  # last 30 days ago: active
    shots += _weekly("prolotherapy" if kind == "prp" else "prp", 60, 2)  # the other kind
    result = assess_case(make(procedures=shots), "clinic")
    assert criterion(result, "regenerative_injection", "regenerative_series_limit") == expected
    assert (("regenerative_series_limit", "warn") in alert_ids(result)) is alert


@pytest.mark.parametrize(("last_days_ago", "active"), [(70, True), (71, False)])
def test_a_series_ends_70_days_after_its_last_injection(last_days_ago, active):
    shots = _weekly("prp", last_days_ago + 63, 10, step=7)
    result = assess_case(make(procedures=shots), "clinic")
    entry = as_json(result)["courses"]["regenerative"][0]
    assert entry["active"] is active
    assert entry["injections"] == 10
    assert criterion(result, "regenerative_injection", "regenerative_series_limit") == (
        "not_met" if active else "met"
    )
    assert (("regenerative_series_limit", "warn") in alert_ids(result)) is active


def test_after_an_ended_series_the_next_injection_starts_a_new_one():
    shots = [*_weekly("prolotherapy", 300, 10, step=7), proc("prolotherapy", ago(10), side=None)]
    result = assess_case(make(procedures=shots), "clinic")
    entry = as_json(result)["courses"]["regenerative"][0]
    assert (entry["series_started"], entry["injections"], entry["active"]) == (ago(10), 1, True)
    assert criterion(result, "regenerative_injection", "regenerative_series_limit") == "met"


# === Treatment courses =========================================================================


def test_courses_fields_and_order():
    shots = [
        proc("prp", ago(50), side=None),
        proc("prolotherapy", ago(100), side=None),
        proc("prolotherapy", ago(30), side=None),
    ]
    shots.append(proc("rfa_cooled", ago(90), 70, 13, side="left"))
    data = as_json(assess_case(make(procedures=shots)))
    assert data["courses"] == {
        "regenerative": [
            {
                "kind": "prolotherapy",
                "series_started": ago(100),
                "injections": 2,
                "series_injections": 3,  # v3: with the PRP injection between
                "last": ago(30),
                "next_window": [ago(2), ago(-12)],
                "limit": 10,
                "active": True,
            },
            {
                "kind": "prp",
                "series_started": ago(50),
                "injections": 1,
                "series_injections": 3,
                "last": ago(50),
                "next_window": [ago(22), ago(8)],
                "limit": 10,
                "active": True,
            },
        ],
        "rfa": {
            "last": ago(90),
            "kind": "rfa_cooled",
            "side": "left",
            "relief_percent": 70,
            "relief_weeks": 13,
            "repeat_from": ago(90 - 182),
        },
    }


def test_an_inactive_series_is_still_reported_as_the_current_one():
    data = as_json(assess_case(make(procedures=[proc("prp", ago(100), side=None)])))
    assert data["courses"]["regenerative"] == [
        {
            "kind": "prp",
            "series_started": ago(100),
            "injections": 1,
            "series_injections": 1,
            "last": ago(100),
            "next_window": [ago(72), ago(58)],
            "limit": 10,
            "active": False,
        }
    ]
    assert "rfa" not in data["courses"]


@pytest.mark.parametrize(("days", "alert"), [(27, True), (28, False), (0, True)])
def test_regenerative_interval_info_before_28_days(days, alert):
    result = assess_case(make(procedures=[proc("prp", ago(days), side=None)]))
    assert (("regenerative_interval", "info") in alert_ids(result)) is alert


@pytest.mark.parametrize(("relief", "alert"), [(29, True), (30, False), (None, False), (0, True)])
def test_early_nonresponse_reads_the_first_injection_of_the_active_series(relief, alert):
    first = proc("prolotherapy", ago(60), percent=relief, side=None)
    shots = [first, proc("prolotherapy", ago(30), 80, side=None)]
    result = assess_case(make(procedures=shots))
    assert (("regenerative_early_nonresponse", "warn") in alert_ids(result)) is alert


def test_early_nonresponse_not_for_an_ended_series():
    shots = [proc("prp", ago(100), percent=10, side=None)]
    assert "regenerative_early_nonresponse" not in [
        a for a, _ in alert_ids(assess_case(make(procedures=shots)))
    ]


def test_course_alerts_under_both_policies():
    shots = [proc("rfa_cooled", ago(100), 70, 14), proc("prp", ago(10), 10, side=None)]
    for policy in POLICIES:
        found = alert_ids(assess_case(make(procedures=shots), policy))
        assert ("rfa_too_soon", "info") in found
        assert ("regenerative_interval", "info") in found
        assert ("regenerative_early_nonresponse", "warn") in found


# === Outcomes additions ========================================================================


def nrs(day, value):
    return {"date": day, "instrument": "nrs", "value": value}


def pgic(day, value):
    return {"date": day, "instrument": "pgic", "value": value}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([(ago(10), 2), (ago(40), 5)], {"value": 2, "date": ago(10), "responder": True}),
        ([(ago(40), 1), (ago(10), 3)], {"value": 3, "date": ago(10), "responder": False}),
        ([(ago(10), 1)], {"value": 1, "date": ago(10), "responder": True}),
        ([(ago(10), 7)], {"value": 7, "date": ago(10), "responder": False}),
    ],
)
def test_pgic_is_the_most_recent_entry_with_responder_at_2_or_less(values, expected):
    data = as_json(assess_case(make(proms=[pgic(d, v) for d, v in values])))
    assert data["outcomes"]["pgic"] == expected


@pytest.mark.parametrize(
    ("baseline", "latest", "reached"),
    [
        (10, 8, True),
        (7, 5, True),
        (7, 5.1, False),
        (3, 2.1, True),
        (3, 2.2, False),
        (5, 3.5, True),
        (4, 2.9, False),
        (6, 4.2, True),
        (2, 1.4, True),
        (8, 9, False),
    ],
)
def test_nrs_mcid_at_2_points_or_30_percent_inclusive(baseline, latest, reached):
    data = as_json(assess_case(make(proms=[nrs(ago(100), baseline), nrs(ago(5), latest)])))
    assert data["outcomes"]["nrs"]["mcid_reached"] is reached
    assert data["outcomes"]["nrs"]["baseline"] == baseline


def test_pgic_must_be_a_whole_number_from_1_to_7():
    for bad in (0, 8, 2.5):
        with pytest.raises(CaseError):
            parse_case(make(proms=[pgic(ago(1), bad)]))


# === Follow-up schedule ========================================================================


def schedule(procedures, proms=(), as_of="2026-11-01"):
    data = make(as_of=as_of, procedures=procedures, proms=list(proms))
    return as_json(assess_case(data))["follow_up"]


def test_treatment_start_points_clamp_to_month_end():
    entries = schedule([proc(day="2025-08-31")], as_of="2026-11-01")
    got = {e["point"]: (e["due"], e["window"]) for e in entries if e["anchor"] == "treatment_start"}
    assert got["baseline"] == ("2025-08-31", ["2025-08-01", "2025-08-31"])
    assert got["3m"] == ("2025-11-30", ["2025-11-16", "2025-12-28"])
    assert got["6m"] == ("2026-02-28", ["2026-02-14", "2026-03-28"])
    assert got["12m"] == ("2026-08-31", ["2026-08-17", "2026-09-28"])
    assert got["24m"] == ("2027-08-31", ["2027-08-17", "2027-09-28"])


def test_treatment_start_is_the_earliest_procedure_of_any_kind_not_a_block():
    entries = schedule([proc("prp", "2026-09-01"), proc("mis_fusion", "2026-03-01")])
    start = [e for e in entries if e["point"] == "baseline"]
    assert start[0]["due"] == "2026-03-01"
    assert start[0]["instruments"] == ["odi", "nrs"]
    assert "procedure_date" not in start[0] and "procedure_kind" not in start[0]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-10-11", "upcoming"),  # window of 2w for 2026-10-01: 10-12 .. 10-22
        ("2026-10-12", "due"),
        ("2026-10-22", "due"),
        ("2026-10-23", "missed"),
    ],
)
def test_procedure_point_status_at_the_window_edges(as_of, expected):
    entries = schedule([proc(day="2026-10-01")], as_of=as_of)
    two = next(e for e in entries if e["point"] == "2w")
    assert (two["due"], two["window"]) == ("2026-10-15", ["2026-10-12", "2026-10-22"])
    assert two["status"] == expected
    assert (two["procedure_date"], two["procedure_kind"]) == ("2026-10-01", "steroid_injection")
    assert two["instruments"] == ["nrs", "pgic"]


@pytest.mark.parametrize(
    ("days", "done"),
    [("2026-10-12", True), ("2026-10-22", True), ("2026-10-11", False), ("2026-10-23", False)],
)
def test_done_with_both_instruments_inside_the_inclusive_window(days, done):
    proms = [nrs(days, 4), pgic("2026-10-15", 2)]
    entries = schedule([proc(day="2026-10-01")], proms, as_of="2026-11-01")
    two = next(e for e in entries if e["point"] == "2w")
    assert two["status"] == ("done" if done else "missed")


def test_six_week_window_and_order_of_entries():
    entries = schedule([proc(day="2026-08-01"), proc("prp", "2026-09-12")], as_of="2026-11-01")
    got = [(e["point"], e["due"], e.get("procedure_date")) for e in entries]
    assert got == [
        ("baseline", "2026-08-01", None),
        ("2w", "2026-08-15", "2026-08-01"),
        ("6w", "2026-09-12", "2026-08-01"),
        ("2w", "2026-09-26", "2026-09-12"),
        ("6w", "2026-10-24", "2026-09-12"),
        ("3m", "2026-11-01", None),
        ("6m", "2027-02-01", None),
        ("12m", "2027-08-01", None),
        ("24m", "2028-08-01", None),
    ]
    six = next(e for e in entries if e["point"] == "6w" and e["procedure_date"] == "2026-08-01")
    assert six["window"] == ["2026-09-09", "2026-09-19"]
    dues = [e["due"] for e in entries]
    assert dues == sorted(dues)


def test_same_due_orders_by_table_order():
    # 3m of a 2026-05-01 start is due 2026-08-01; the 6w of 2026-06-20 is due 2026-08-01 too
    entries = schedule([proc(day="2026-05-01"), proc(day="2026-06-20")])
    same = [e["point"] for e in entries if e["due"] == "2026-08-01"]
    assert same == ["3m", "6w"]


def test_baseline_done_needs_odi_and_nrs_in_the_30_days_before_start():
    odi = {"date": "2026-09-01", "instrument": "odi", "answers": [1] * 10}
    entries = schedule([proc(day="2026-10-01")], [odi, nrs("2026-10-01", 6)])
    assert next(e for e in entries if e["point"] == "baseline")["status"] == "done"
    odi_early = {**odi, "date": "2026-08-31"}
    entries = schedule([proc(day="2026-10-01")], [odi_early, nrs("2026-10-01", 6)])
    assert next(e for e in entries if e["point"] == "baseline")["status"] == "missed"


# === Self-screen ===============================================================================

SCREEN = {
    "answered_on": "2026-11-20",
    "red_flags": {
        k: "no"
        for k in (
            "saddle_numbness",
            "bladder_or_bowel_change",
            "leg_weakness_worsening",
            "fever_or_unwell",
            "cancer_history",
            "unexplained_weight_loss",
            "major_fall_or_accident",
        )
    },
    "pain_started": "2026-05-01",
    "points_one_finger_near_psis": "yes",
    "groin_pain": "no",
    "worse_sitting_on_chair": "yes",
    "below_knee": "no",
    "foot_numbness_or_tingling": "no",
}


def screen(**changes) -> dict:
    data = json.loads(json.dumps(SCREEN))
    for key, value in changes.items():
        if key.startswith("flag_"):
            data["red_flags"][key[5:]] = value
        elif value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return json.loads(self_screen(parse_screen(data)).model_dump_json(exclude_none=True))


@pytest.mark.parametrize(
    ("finger", "groin", "sitting", "score", "result"),
    [
        ("yes", "no", "yes", 4, "fits_sij"),
        ("yes", "no", "no", 3, "exam_decides"),
        ("no", "yes", "yes", 3, "exam_decides"),
        ("no", "no", "yes", 1, "exam_decides"),
        ("no", "no", "no", 0, "unlikely_sij"),
        ("unsure", "no", "no", 0, "unlikely_sij"),
        ("yes", "yes", "yes", 6, "fits_sij"),
    ],
)
def test_screen_self_score_and_result(finger, groin, sitting, score, result):
    got = screen(
        points_one_finger_near_psis=finger, groin_pain=groin, worse_sitting_on_chair=sitting
    )
    assert (got["self_score"], got["result"], got["exam_points_possible"]) == (score, result, 3)
    assert "emergency" not in got


@pytest.mark.parametrize(
    ("flag", "answer", "emergency"),
    [
        ("saddle_numbness", "unsure", True),
        ("bladder_or_bowel_change", "yes", True),
        ("leg_weakness_worsening", "unsure", True),
        ("fever_or_unwell", "yes", False),
        ("major_fall_or_accident", "yes", False),
        ("unexplained_weight_loss", "yes", False),
    ],
)
def test_screen_urgent_care_reports_nothing_else(flag, answer, emergency):
    got = screen(**{f"flag_{flag}": answer})
    assert got["result"] == "seek_urgent_care"
    assert got["emergency"] is emergency
    assert got["next_step"] == "urgent_care"
    assert set(got) == {"result", "emergency", "next_step", "reasons"}


@pytest.mark.parametrize(
    "flag",
    ["fever_or_unwell", "cancer_history", "unexplained_weight_loss", "major_fall_or_accident"],
)
def test_screen_unsure_on_a_non_emergency_flag_is_not_urgent(flag):
    got = screen(**{f"flag_{flag}": "unsure"})
    assert got["result"] == "fits_sij"
    assert "emergency" not in got


@pytest.mark.parametrize(
    ("areas", "below", "foot", "expected"),
    [
        ({"axial_low_back": 40, "sij_region": 40, "buttock_leg": 20}, "yes", "yes", ["nerve_root"]),
        (
            {"axial_low_back": 41, "sij_region": 40, "buttock_leg": 19},
            "yes",
            "yes",
            ["nerve_root", "lumbar_spine"],
        ),
        (
            {"axial_low_back": 41, "sij_region": 40, "buttock_leg": 19},
            "yes",
            "no",
            ["lumbar_spine"],
        ),
        (None, "no", "yes", []),
    ],
)
def test_screen_other_sources_in_order(areas, below, foot, expected):
    got = screen(
        pain_areas=... if areas is None else areas, below_knee=below, foot_numbness_or_tingling=foot
    )
    assert got["other_sources"] == expected


def test_screen_duration_as_given():
    got = screen(pain_started=..., duration_months=2)
    assert (got["duration_months"], got["recent"]) == (2, True)
    got = screen(pain_started=..., duration_months=3)
    assert (got["duration_months"], got["recent"]) == (3, False)


@pytest.mark.parametrize(
    ("changes", "step"),
    [
        ({}, "appointment"),
        ({"points_one_finger_near_psis": "no", "worse_sitting_on_chair": "no"}, "primary_care"),
        (
            {
                "points_one_finger_near_psis": "no",
                "worse_sitting_on_chair": "no",
                "below_knee": "yes",
                "foot_numbness_or_tingling": "yes",
            },
            "appointment",
        ),
        (
            {
                "points_one_finger_near_psis": "no",
                "worse_sitting_on_chair": "no",
                "pain_areas": {"axial_low_back": 60, "sij_region": 40},
            },
            "appointment",
        ),
    ],
)
def test_screen_next_step(changes, step):
    assert screen(**changes)["next_step"] == step


def test_screen_rejects_a_date_after_answered_on_and_bad_area_sums():
    with pytest.raises(CaseError):
        parse_screen({**SCREEN, "pain_started": "2026-11-21"})
    with pytest.raises(CaseError):
        parse_screen({**SCREEN, "pain_areas": {"axial_low_back": 50, "sij_region": 40}})
    with pytest.raises(CaseError):
        parse_screen({**SCREEN, "extra": 1})
    missing = json.loads(json.dumps(SCREEN))
    del missing["red_flags"]["cancer_history"]
    with pytest.raises(CaseError):
        parse_screen(missing)


# === An independent reading of the rules, on random cases ======================================

COURSE_AND_STEROID_ALERTS = {
    "regenerative_series_limit",
    "regenerative_interval",
    "regenerative_early_nonresponse",
    "rfa_too_soon",
    "steroid_frequency_limit",
    "steroid_interval",
}


def _engine_view(case: dict, policy: str) -> tuple[dict, dict]:
    data = as_json(assess_case(case, policy))
    found = {
        f"{option}.{c['id']}": c["status"]
        for option, entry in data["eligibility"].items()
        for c in entry["criteria"]
    }
    return data, found


@pytest.mark.parametrize("seed", range(40))
def test_an_independent_reading_of_the_follow_up_schedule_agrees_on_random_cases(seed):
    # v2 follow-up schedule, which v3 leaves as it was. The v2 reading of the stage, criteria,
    # courses and alerts gave way to tests/v3_reference.py (test_vignettes_v3.py compares it).
    import random

    from tests import v2_reference as ref

    rng = random.Random(seed)
    checked = 0
    for _ in range(10):
        case = ref.gen(rng)
        if ref.ambiguous(case):
            continue
        checked += 1
        want = ref.ref(case, "medicare")
        data, _ = _engine_view(case, "medicare")
        assert data["follow_up"] == want["follow_up"], case
    assert checked


@pytest.mark.parametrize("seed", range(20))
def test_every_option_follows_the_combination_law_on_random_cases(seed):
    # contract: not_covered, else not_met, else unknown, else met (v3 left it as it was)
    import random

    from tests import v2_reference as ref

    rng = random.Random(1000 + seed)
    for _ in range(10):
        case = ref.gen_v1(rng)
        for policy in POLICIES:
            data, _ = _engine_view(case, policy)
            for option, entry in data["eligibility"].items():
                statuses = [c["status"] for c in entry["criteria"]]
                if policy == "medicare" and option in ("sij_rfa", "regenerative_injection"):
                    expected = "not_covered"
                elif "not_met" in statuses:
                    expected = "not_met"
                else:
                    expected = "unknown" if "unknown" in statuses else "met"
                assert entry["status"] == expected, (policy, option)


# === Output shape and exit codes ===============================================================


@pytest.mark.parametrize("policy", POLICIES)
def test_v2_fields_are_in_every_assessment_and_the_schema_stays_1(policy):
    # v2 preamble: fields were only added; courses and follow_up in every assessment
    data = as_json(assess_case(make(procedures=..., proms=..., blocks=...), policy))
    assert data["schema_version"] == 1
    assert data["courses"] == {"regenerative": []}
    assert data["follow_up"] == []
    assert "pgic" in data["outcomes"]


def test_cli_exit_2_for_a_date_after_as_of_and_after_answered_on(tmp_path):
    # v2 general: any date after as_of (self-screen: after answered_on) is invalid, exit 2
    from tests.test_cli import sijcare

    case = make(proms=[{"date": "2026-11-02", "instrument": "pgic", "value": 2}])
    done = sijcare("assess", "-", stdin=json.dumps(case))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: ") and "proms[0].date" in done.stderr
    answers = {**SCREEN, "pain_started": "2026-11-21"}
    done = sijcare("screen", "-", stdin=json.dumps(answers))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: pain_started: ")

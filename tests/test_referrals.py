"""Referrals: red flags (emergency vs urgent work-up) and NICE NG65 for spondyloarthritis."""

from __future__ import annotations

import pytest

from tests.conftest import make, run

FEATURES = ["onset_before_35", "wakes_second_half_of_night", "buttock_pain",
            "improves_with_movement", "improves_with_nsaids_48h"]


def refs(result):
    return [(r.id, r.action) for r in result.referrals]


@pytest.mark.parametrize("flag", ["saddle_anesthesia", "bladder_dysfunction", "bowel_dysfunction",
                                  "progressive_neuro_deficit"])
def test_cauda_equina_flags_are_emergencies(flag):
    assert refs(run(make(history__red_flags=[flag]))) == [("emergency", "urgent")]


@pytest.mark.parametrize("flag", ["fever", "immunosuppression", "iv_drug_use", "cancer_history",
                                  "unexplained_weight_loss", "major_trauma",
                                  "osteoporotic_fracture_risk"])
def test_other_flags_need_urgent_workup(flag):
    assert refs(run(make(history__red_flags=[flag]))) == [("urgent_workup", "urgent")]


def test_mixed_flags_give_both_referrals_once_each():
    result = run(make(history__red_flags=["saddle_anesthesia", "bladder_dysfunction", "fever"]))
    assert refs(result) == [("emergency", "urgent"), ("urgent_workup", "urgent")]
    assert [f.id for f in result.red_flags] == ["saddle_anesthesia", "bladder_dysfunction", "fever"]


def spa(count, birth="1990-01-01", onset="2026-01-01", **more):
    return make(patient__birth_date=birth, history__pain_onset=onset,
                history__spa_features=FEATURES[:count], **more)


@pytest.mark.parametrize(("count", "expected"), [
    (5, [("rheumatology", "refer")]), (4, [("rheumatology", "refer")]),
    (3, [("rheumatology", "test_hla_b27")]), (2, []), (0, []),
])
def test_ng65_feature_counts(count, expected):
    assert refs(run(spa(count))) == expected


def test_ng65_needs_onset_before_45():
    assert refs(run(spa(4, birth="1981-01-02"))) == [("rheumatology", "refer")]  # 44 at onset
    assert refs(run(spa(4, birth="1981-01-01"))) == []  # turns 45 on the day of onset
    assert refs(run(spa(4, birth="1980-12-31"))) == []


def test_ng65_needs_more_than_3_months():
    assert refs(run(spa(4, onset="2026-08-01"))) == []          # exactly 3 months: not more
    assert refs(run(spa(4, onset="2026-07-31"))) == [("rheumatology", "refer")]


def test_ng65_unknown_age_or_features_gives_no_referral():
    assert refs(run(spa(4, birth=...))) == []
    assert refs(run(make(history__spa_features=...))) == []


def test_ng65_with_recorded_age_and_duration():
    data = make(patient__birth_date=..., patient__age=40, history__pain_onset=...,
                history__pain_duration_months=6, history__spa_features=FEATURES[:4])
    assert refs(run(data)) == [("rheumatology", "refer")]


def test_inflammatory_differential_from_three_features():
    assert [d.id for d in run(spa(3)).differential] == ["inflammatory"]

"""Laslett cluster, post-test probability, and block interpretation per policy threshold."""

from __future__ import annotations

import pytest

from sijcare.engine.likelihood import posterior
from tests.conftest import make, run

SIX = ["distraction", "thigh_thrust", "compression", "sacral_thrust", "gaenslen_left",
       "gaenslen_right"]


def exam(**results):
    return make(exam__provocation=results)


@pytest.mark.parametrize(("results", "expected", "positive", "performed"), [
    ({t: "positive" for t in SIX[:3]}, "positive", 3, 3),
    ({**{t: "positive" for t in SIX[:2]}, **{t: "negative" for t in SIX[2:]}}, "negative", 2, 6),
    ({**{t: "positive" for t in SIX[:2]}, **{t: "negative" for t in SIX[2:5]}}, "incomplete", 2, 5),
    ({t: "negative" for t in SIX[:4]}, "negative", 0, 4),   # 0 + 2 untested < 3
    ({t: "negative" for t in SIX[:3]}, "incomplete", 0, 3),  # 0 + 3 untested could reach 3
    ({}, "incomplete", 0, 0),
])
def test_cluster_result(results, expected, positive, performed):
    cluster = run(exam(**results)).sij_likelihood.cluster
    assert (cluster.result, cluster.positive, cluster.performed) == (expected, positive, performed)


def test_faber_and_yeoman_are_not_in_the_cluster():
    cluster = run(exam(faber="positive", yeoman="positive", distraction="positive")
                  ).sij_likelihood.cluster
    assert cluster.positive == 1 and cluster.performed == 1


def test_gaenslen_sides_count_separately_in_the_cluster():
    cluster = run(exam(gaenslen_left="positive", gaenslen_right="positive",
                       distraction="positive")).sij_likelihood.cluster
    assert cluster.result == "positive"


@pytest.mark.parametrize(("results", "lr", "post"), [
    ({t: "positive" for t in SIX}, 4.29, 0.517),
    ({t: "negative" for t in SIX}, 0.08, 0.02),
    ({"distraction": "positive"}, 1.0, 0.2),
])
def test_posterior_from_prior_odds(results, lr, post):
    likelihood = run(exam(**results)).sij_likelihood
    assert likelihood.prior == 0.2
    assert likelihood.likelihood_ratio == lr
    assert likelihood.posterior == post


def test_prior_override_and_policy_default():
    data = exam(**{t: "positive" for t in SIX})
    assert run(data, prior=0.5).sij_likelihood.posterior == pytest.approx(0.811, abs=1e-3)
    assert run(data, policy="clinic").sij_likelihood.prior == 0.2


def test_posterior_formula():
    assert posterior(0.2, 4.29) == pytest.approx(1.0725 / 2.0725)


def blocks(before, after):
    return make(blocks=[{"date": "2026-06-01", "guidance": "fluoroscopy",
                         "pain_before": before, "pain_after": after}])


@pytest.mark.parametrize(("before", "after", "medicare", "clinic"), [
    (4, 1, "confirmed", "confirmed"),    # 75.0: the Medicare threshold itself
    (10, 3, "equivocal", "confirmed"),   # 70
    (10, 5, "equivocal", "confirmed"),   # 50: the floor and the clinic threshold
    (10, 6, "negative", "negative"),     # 40
    (7, 2, "equivocal", "confirmed"),    # 71.4
    (9, 2, "confirmed", "confirmed"),    # 77.8
])
def test_block_result_by_policy(before, after, medicare, clinic):
    assert run(blocks(before, after)).block.result == medicare
    assert run(blocks(before, after), policy="clinic").block.result == clinic


def test_block_threshold_reported():
    assert run(blocks(8, 1)).block.threshold == 75
    assert run(blocks(8, 1), policy="clinic").block.threshold == 50


def test_no_block_is_none():
    result = run(make(blocks=[]))
    assert (result.block.result, result.block.date, result.block.relief_percent) == (
        "none", None, None)


def test_a_block_with_a_diary_is_interpreted():
    data = make(blocks=[{"date": "2026-06-01", "guidance": "fluoroscopy", "pain_before": 8,
                         "pain_after": 2, "diary": [{"minutes": 0, "pain": 8},
                                                    {"minutes": 30, "pain": 2}]}])
    assert run(data).block.relief_percent == 75.0

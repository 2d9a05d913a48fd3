"""ODI v2.1a scoring, bands, NRS, baseline/change and MCID."""

from __future__ import annotations

import pytest

from sijcare.instruments.odi import mcid_reached, score_odi
from sijcare.knowledge import load_knowledge
from tests.conftest import make, run

RULE = load_knowledge().outcomes.odi


@pytest.mark.parametrize(("answers", "score", "band", "answered"), [
    ([3, 2, 3, 2, 1, 3, 2, 2, None, 3], 46.7, "severe", 9),
    ([2] * 10, 40.0, "moderate", 10),
    ([1] * 10, 20.0, "minimal", 10),
    ([2, 2, 2, 2, 2, 2, 2, 2, 2, 3], 42.0, "severe", 10),
    ([3] * 10, 60.0, "severe", 10),
    ([4] * 10, 80.0, "crippled", 10),
    ([5] * 10, 100.0, "bed_bound", 10),
    ([0] * 10, 0.0, "minimal", 10),
    ([1, 2, 1, 2, 1, 2, 1, 2, None, None], None, None, 8),
])
def test_odi_scores_and_bands(answers, score, band, answered):
    result = score_odi(answers, RULE)
    assert (result.score, result.band, result.answered) == (score, band, answered)


def test_odi_band_edges():
    # 16/45 = 35.6 moderate; 21/50 = 42 severe; 41/50 = 82 bed_bound
    assert score_odi([2, 2, 2, 2, 2, 2, 2, 1, 1, None], RULE).score == 35.6
    assert score_odi([5, 5, 5, 5, 5, 4, 4, 4, 4, 0], RULE).band == "bed_bound"
    assert score_odi([5, 5, 5, 5, 5, 4, 4, 4, 3, 0], RULE).band == "crippled"  # 80


def test_odi_rejects_out_of_range():
    with pytest.raises(ValueError):
        score_odi([6] + [0] * 9, RULE)
    with pytest.raises(ValueError):
        score_odi([0] * 9, RULE)


def odi(day, answers):
    return {"date": day, "instrument": "odi", "answers": answers}


def nrs(day, value):
    return {"date": day, "instrument": "nrs", "value": value}


def test_single_entries_have_no_baseline():
    out = run(make(proms=[odi("2026-06-01", [2] * 10), nrs("2026-06-01", 7)])).outcomes
    assert (out.odi.score, out.odi.baseline, out.odi.change, out.odi.mcid_reached) == (
        40.0, None, None, None)
    assert (out.nrs.value, out.nrs.baseline) == (7, None)


def test_latest_by_date_with_baseline_change_and_mcid():
    proms = [odi("2026-09-01", [1] * 10), odi("2026-03-01", [3] * 10),
             nrs("2026-09-01", 5), nrs("2026-03-01", 8)]
    out = run(make(proms=proms)).outcomes
    assert (str(out.odi.date), out.odi.score, out.odi.baseline, out.odi.change) == (
        "2026-09-01", 20.0, 60.0, -40.0)
    assert out.odi.mcid_reached is True
    assert (str(out.nrs.date), out.nrs.value, out.nrs.baseline, out.nrs.change) == (
        "2026-09-01", 5, 8, -3)
    assert out.nrs.mcid_reached is True


@pytest.mark.parametrize(("baseline", "latest", "points", "percent", "reached"), [
    (40, 30, 10, 30, True),    # 10 points
    (40, 31, 10, 30, False),   # 9 points, 22.5%
    (20, 14, 10, 30, True),    # 6 points but 30%
    (20, 15, 10, 30, False),   # 25%
    (8, 6, 2, 30, True),       # NRS 2 points
    (3, 2, 2, 30, True),       # NRS 33%
    (10, 8.5, 2, 30, False),   # 15%
    (5, 7, 2, 30, False),      # worse
    (0, 0, 2, 30, False),
])
def test_mcid(baseline, latest, points, percent, reached):
    assert mcid_reached(baseline, latest, points, percent) is reached


def test_nrs_worse_is_not_mcid():
    out = run(make(proms=[nrs("2026-03-01", 4), nrs("2026-09-01", 7)])).outcomes
    assert (out.nrs.change, out.nrs.mcid_reached) == (3, False)


def test_unscorable_latest_odi_reported_without_score():
    proms = [odi("2026-03-01", [3] * 10), odi("2026-09-01", [1] * 8 + [None, None])]
    out = run(make(proms=proms)).outcomes.odi
    assert (out.score, out.answered, out.baseline, out.change, out.mcid_reached) == (
        None, 8, 60.0, None, None)


def test_no_proms_no_outcomes():
    out = run(make(proms=...)).outcomes
    assert out.odi is None and out.nrs is None


def _nrs(*values):
    return [{"date": f"2026-0{i + 1}-01", "instrument": "nrs", "value": v}
            for i, v in enumerate(values)]


@pytest.mark.parametrize(("baseline", "latest", "reached"), [
    (8, 6, True),      # exactly 2 points
    (3, 2.1, True),    # exactly 30% of 3
    (3, 2.2, False),   # 0.8 points, 26.7%
    (10, 8.1, False),  # 1.9 points, 19%
    (6, 7, False),     # worse
])
def test_nrs_mcid_is_inclusive_at_two_points_or_thirty_percent(baseline, latest, reached):
    nrs = run(make(proms=_nrs(baseline, latest))).outcomes.nrs
    assert nrs.mcid_reached is reached
    assert nrs.baseline == baseline


@pytest.mark.parametrize(("value", "responder"), [(1, True), (2, True), (3, False), (7, False)])
def test_pgic_latest_entry_with_responder(value, responder):
    proms = [{"date": "2026-09-01", "instrument": "pgic", "value": 6},
             {"date": "2026-10-01", "instrument": "pgic", "value": value}]
    pgic = run(make(proms=proms)).outcomes.pgic
    assert (pgic.value, str(pgic.date), pgic.responder) == (value, "2026-10-01", responder)
    dumped = run(make(proms=proms)).model_dump(mode="json")["outcomes"]["pgic"]
    assert dumped == {"value": value, "date": "2026-10-01", "responder": responder}


def test_no_pgic_no_pgic_outcome():
    assert run(make(proms=_nrs(5))).outcomes.pgic is None


@pytest.mark.parametrize("value", [0, 8, 2.5])
def test_pgic_values_are_whole_numbers_from_1_to_7(value):
    from sijcare.model import CaseError, parse_case

    with pytest.raises(CaseError, match="pgic"):
        parse_case(make(proms=[{"date": "2026-09-01", "instrument": "pgic", "value": value}]))

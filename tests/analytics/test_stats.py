"""Intervals from counts: each one holds its own estimate, even at 0 % and 100 %."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sijcare.analytics.stats import wilson


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_share(counts: tuple[int, int]) -> None:
    count, total = counts
    found = wilson(count, total)
    assert 0 <= found.low <= found.share <= found.high <= 1


def test_all_responders_reach_exactly_one() -> None:
    # statsmodels gives 0.9999999999999999 for 7 of 7: a chart's error bar would go negative
    assert wilson(7, 7).high == 1.0
    assert wilson(0, 7).low == 0.0


def test_no_answers_no_interval() -> None:
    assert (wilson(0, 0).share, wilson(0, 0).low, wilson(0, 0).high) == (None, None, None)

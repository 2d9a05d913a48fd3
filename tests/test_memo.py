"""Shared findings: equal inputs share one result, the shelves stay bounded and cost the
collector nothing for their keys."""

from __future__ import annotations

import gc

from sijcare.engine import memo
from sijcare.engine.memo import Shelf
from tests.conftest import make, run


def test_equal_verdicts_share_one_option_result():
    memo.clear()
    first = run(make(patient__id="p-1"))
    second = run(make(patient__id="p-2"))
    for option, result in first.eligibility.items():
        assert second.eligibility[option] is result, option


def test_different_verdicts_do_not_share():
    memo.clear()
    plain = run(make())
    flagged = run(make(history__red_flags=["fever"]))
    option = "diagnostic_sij_injection"
    assert flagged.eligibility[option] is not plain.eligibility[option]
    assert flagged.eligibility[option].status != "met"


def test_a_full_shelf_starts_afresh():
    shelf = Shelf(maxsize=2)
    shelf.keep(("a",), 1)
    shelf.keep(("b",), 2)
    assert shelf.keep(("c",), 3) == 3
    assert dict(shelf) == {("c",): 3}


def test_shelf_keys_are_untracked_by_the_collector():
    memo.clear()
    run(make())
    from sijcare.engine.eligibility import plan
    from sijcare.knowledge import load_knowledge

    gc.collect()
    gc.collect()  # a pass untracks one level of nested tuples: the verdicts, then their tuple
    entries = plan(load_knowledge(), "medicare").options
    keys = [key for entry in entries for key in entry.results]
    keys += [key for entry in entries for step in entry.steps for key in step.results]
    assert keys
    assert not any(gc.is_tracked(key) for key in keys)


def test_shared_results_follow_the_knowledge_base_they_were_built_from():
    builds = []

    @memo.shared(maxsize=8)
    def label(kb, value):
        builds.append((kb["version"], value))
        return f"{kb['version']}:{value}"

    old, new = {"version": "1"}, {"version": "2"}
    assert label(old, "x") == "1:x"
    assert label(old, "x") == "1:x"
    assert label(new, "x") == "2:x"
    assert label(old, "x") == "1:x"
    assert builds == [("1", "x"), ("2", "x"), ("1", "x")]
    memo.clear()
    assert label(old, "x") == "1:x"
    assert len(builds) == 4


def test_an_options_summary_is_shared_when_only_its_details_differ():
    memo.clear()
    early = run(make(history__pain_onset="2025-01-10"))
    later = run(make(history__pain_onset="2025-02-10"))
    option = "diagnostic_sij_injection"
    assert early.eligibility[option] is not later.eligibility[option]  # the dates differ
    assert early.eligibility[option].reasons[0] is later.eligibility[option].reasons[0]


def test_lists_of_plain_words_cost_the_collector_nothing():
    assessment = run(make(history__red_flags=["fever"]))
    gc.collect()
    words = [r.sources for r in assessment.reasons]
    words += [a.sources for a in assessment.alerts]
    words += [p.instruments for p in assessment.follow_up]
    for result in assessment.eligibility.values():
        words += [result.missing, *(c.sources for c in result.criteria)]
    assert words
    assert not any(gc.is_tracked(w) for w in words)

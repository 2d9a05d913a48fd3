"""The clinician's text report: same content in plain text and in Rich layout."""

from __future__ import annotations

import io

from rich.console import Console

from sijcare.knowledge import load_knowledge
from sijcare.reports.text import cited_sources, render_plain, render_rich
from tests.conftest import make, run

KB = load_knowledge()


def test_plain_report_names_stage_reasons_options_and_sources():
    result = run(make(allergies=["contrast"]))
    text = render_plain(result, KB)
    assert "Stage: Interventional treatment (interventional_treatment)\n----" in text
    assert "WARN Allergy conflict" in text  # labels, not codes (sijcare.labels)
    assert "Diagnostic SIJ block / pain_3_months: met" in text
    for source in cited_sources(result):
        assert f"[{source}]" in text


def test_rich_report_on_a_terminal_has_the_same_sections():
    result = run(make(history__red_flags=["fever"]))
    buffer = io.StringIO()
    render_rich(result, KB, Console(file=buffer, force_terminal=True, width=140))
    shown = buffer.getvalue()
    assert "\x1b[" in shown
    for title in ("Stage: Urgent referral", "Options under policy medicare", "Alerts", "Sources"):
        assert title in shown


def test_provisional_and_secondary_sources_are_labelled():
    text = render_plain(run(make(procedures=[])), KB)
    assert "Provisional rule:" in text
    assert "(secondary; rules built on it are provisional)" in text


def _titles(text: str) -> list[str]:
    lines = text.splitlines()
    return [lines[i - 1] for i, line in enumerate(lines) if line and set(line) == {"-"}]


def test_with_a_red_flag_the_urgent_referral_stands_alone_at_the_top():
    text = render_plain(run(make(history__red_flags=["saddle_anesthesia"])), KB)
    titles = _titles(text)
    assert titles[0] == "Stage: Urgent referral (urgent_referral)"
    assert titles[1] == "After the urgent work-up"
    assert all(t.startswith("After the urgent work-up") for t in titles[1:-1])
    assert titles[-1] == "Sources"
    top = text.split("After the urgent work-up")[0]
    assert "Refer now: Emergency referral (urgent)" in top
    assert "BLOCK Red flag" in top
    for routine in ("Provocation cluster", "probability", "Options under policy", "Perform and"):
        assert routine not in top


def test_without_a_red_flag_nothing_is_folded():
    text = render_plain(run(make()), KB)
    assert "After the urgent work-up" not in text
    assert _titles(text)[1] == "Work-up"


def test_unknown_clues_are_never_printed_as_zero_present():
    data = make(history={"red_flags": []}, exam=...)
    text = render_plain(run(data), KB)
    assert "0 of 5 clues present" not in text
    assert "clues not recorded (5 of 5 unknown)" in text
    partly = render_plain(run(make(history__fortin_finger=..., history__aggravating=...)), KB)
    assert "2 unknown" in partly


def test_each_option_shows_its_evidence_with_the_strength_word():
    text = render_plain(run(make(), "clinic"), KB)
    assert "SIJ radiofrequency ablation / evidence (strong):" in text
    assert "Regenerative injection (prolotherapy, PRP) / evidence (weak):" in text
    assert "Diagnostic SIJ block / evidence (strength not retrieved):" in text


def test_pending_criteria_pooled_posterior_and_pgic_are_reported():
    data = make(procedures=[{"date": "2026-08-01", "kind": "steroid_injection", "side": "left",
                             "relief_percent": 70, "relief_weeks": 8, "relief_ongoing": False}],
                proms=[{"date": "2026-10-01", "instrument": "pgic", "value": 2}])
    text = render_plain(run(data), KB)
    assert "PGIC 2 on 2026-10-01: responder" in text
    assert "with the pooled cluster ratio of Saueressig 2021 (LR 2.13)" in text
    ongoing = make(procedures=[{"date": "2026-09-01", "kind": "steroid_injection",
                                "side": "left", "relief_percent": 70, "relief_weeks": 8,
                                "relief_ongoing": True}])
    text = render_plain(run(ongoing), KB)
    assert ("repeat_response: pending (relief ongoing at 8 weeks; decidable at 12)") in text

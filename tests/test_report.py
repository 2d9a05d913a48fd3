"""The clinician's text report: same content in plain text and in Rich layout."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from sijcare.engine import assess
from sijcare.knowledge import load_knowledge, short_citation
from sijcare.model.case import Case
from sijcare.reports.text import cited_sources, render_plain, render_rich
from tests.conftest import make, run

KB = load_knowledge()


def test_plain_report_names_stage_reasons_options_and_sources():
    result = run(make(allergies=["contrast"]))
    text = render_plain(result, KB)
    assert "Stage: Interventional treatment\n----" in text
    assert "WARN Allergy conflict" in text  # labels, not codes (sijcare.labels)
    assert "Diagnostic SIJ block / Pain for at least 3 months: met" in text
    for source in cited_sources(result):
        assert f"{short_citation(KB.sources[source])}: {KB.sources[source].citation}" in text


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
    assert titles[0] == "Stage: Urgent referral"
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
    assert "Diagnostic SIJ block / evidence (not graded):" in text
    assert "Diagnostic SIJ block / evidence (grade not retrieved):" in text


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
    assert ("12 weeks: pending (relief ongoing at 8 weeks; decidable at 12)") in text


RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
CASES = sorted(Path("examples").glob("*.yaml")) + sorted(Path("tests/vignettes").glob("v*.yaml"))


@pytest.mark.parametrize("policy", sorted(KB.policies))
def test_no_text_report_shows_a_raw_code(policy):
    """Stage ids, red-flag and criterion codes, source keys: all in clinical words."""
    found = {}
    for path in CASES:
        case = yaml.safe_load(path.read_text())
        text = render_plain(assess(Case.model_validate(case), policy=policy), KB)
        text = text.replace(case["patient"]["id"], "")  # the file's own id, in the header
        if codes := set(RAW_CODE.findall(text)):
            found[path.name] = sorted(codes)
    assert not found, found


def test_red_flags_read_not_recorded_when_nobody_screened():
    text = render_plain(run(make(history__red_flags=...)), KB)
    assert "Red flags: not recorded" in text and "Red flags: none" not in text
    assert "Red flags: none" in render_plain(run(make()), KB)


def test_a_pregnancy_stops_and_a_met_option_beside_an_allergy_reads_review_first():
    """v3: pregnancy is a safety criterion of every covered option, so the injections read as
    stopped (v2 read "met, REVIEW FIRST: pregnancy")."""
    pregnant = render_plain(run(make(patient__pregnant=True)), KB)
    assert re.search(r"Therapeutic SIJ steroid injection +NOT MET \(SAFETY STOP\)", pregnant)
    assert "REVIEW FIRST" not in pregnant
    allergic = render_plain(run(make(allergies=["contrast"])), KB)
    assert re.search(r"Diagnostic SIJ block +met, REVIEW FIRST: allergy conflict", allergic)
    stopped = render_plain(run(make(history__red_flags=["fever"])), KB)
    assert "NOT MET (SAFETY STOP)" in stopped
    assert not re.search(r"^  \S.*  met  ", stopped, re.M)

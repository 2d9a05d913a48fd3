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

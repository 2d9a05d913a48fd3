"""Issue 19 corrections, each read back from the knowledge base: firmness, strength words,
citations that support their claims, who funded each study, and the registry's figures."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from sijcare.analytics.knowledge import load_registry, unmarked_advocacy
from sijcare.analytics.queries import Filters
from sijcare.analytics.registry import RegistryFigures
from sijcare.analytics.trials import trial_panels
from sijcare.knowledge import GuidelinePosition, Study, load_knowledge
from sijcare.knowledge.content import advocacy_sources, source_label
from tests.test_cli import sijcare

KB = load_knowledge()
TREATMENTS = {t.id: t for t in KB.evidence.treatments}
STUDIES = [s for t in KB.evidence.treatments for s in t.studies] + KB.evidence.background
STRENGTHS = {"weak", "strong", "appropriate", "not graded", "grade not retrieved"}


def position(treatment: str, source: str) -> GuidelinePosition:
    return next(p for p in TREATMENTS[treatment].guideline_positions if p.source == source)


def test_singla_2017_has_one_firmness_everywhere_and_names_where_it_was_checked():
    firmness = {KB.sources["singla_2017"].firmness}
    firmness |= {s.firmness for s in STUDIES if s.source == "singla_2017"}
    assert firmness == {"verified"}
    assert KB.sources["singla_2017"].url == "https://pubmed.ncbi.nlm.nih.gov/27677100/"
    result = next(s.result for s in STUDIES if s.source == "singla_2017")
    assert "not verified" not in result and "knew which injection" in result


def test_cooled_rfa_is_not_graded_strong_on_an_unverified_example_list():
    cooled = position("rfa_cooled", "mccormick_2025")
    assert cooled.strength != "strong" and "unverified" in cooled.position
    assert position("rfa_conventional", "mccormick_2025").strength == "strong"


def test_jee_2014_is_not_cited_for_injections_without_guidance():
    assert "jee_2014" not in KB.safety.block_not_image_guided.sources
    assert KB.safety.block_not_image_guided.sources  # the payer rule still stands behind it


def test_the_regenerative_limit_cites_the_clinic_practice_not_three_injection_studies():
    for sources in (KB.courses.regenerative.sources,
                    KB.courses.alerts["regenerative_series_limit"].sources):
        assert "seed_regenerative_article" in sources
        assert not {"kim_2010", "hoffman_2018"} & set(sources)


def test_every_guideline_position_has_a_strength_word():
    positions = [p for t in KB.evidence.treatments for p in t.guideline_positions]
    assert len(positions) >= 29
    assert {p.strength for p in positions} <= STRENGTHS
    graded = {(t.id, p.source, p.strength) for t in KB.evidence.treatments
              for p in t.guideline_positions if p.strength in ("weak", "strong")}
    assert graded == {("prolotherapy", "mccormick_2025", "weak"),
                      ("prp", "mccormick_2025", "weak"),
                      ("rfa_conventional", "mccormick_2025", "strong")}
    for payer in ("ngs_lcd_l39455", "lcd_billing_articles", "cms_lcd_l39797"):
        assert {p.strength for p in positions if p.source == payer} == {"not graded"}


@pytest.mark.parametrize("strength", [None, "", "  "])
def test_the_loader_refuses_a_position_without_a_strength(strength):
    with pytest.raises(ValidationError):
        GuidelinePosition.model_validate({"source": "mccormick_2025", "position": "x",
                                          "strength": strength})
    with pytest.raises(ValidationError):
        GuidelinePosition.model_validate({"source": "mccormick_2025", "position": "x"})


def test_every_study_says_who_funded_it_and_industry_sponsorship_is_flagged():
    assert all(s.funding for s in STUDIES)
    sponsored = {s.source for s in STUDIES if s.industry_sponsored}
    assert sponsored == {"polly_2016"}  # INSITE's registered sponsor makes the implant
    with pytest.raises(ValidationError):  # the flag follows the funding, never set by hand
        Study.model_validate({"source": "x", "design": "rct", "funding": "not stated",
                              "firmness": "verified", "industry_sponsored": True})
    assert "Industry-sponsored" in source_label(KB.sources["polly_2016"], KB)
    assert source_label(KB.sources["cohen_2008"], KB) is None
    fusion = json.loads(sijcare("knowledge", "evidence", "mis_fusion").stdout)
    polly = next(s for s in fusion["studies"] if s["source"] == "polly_2016")
    assert (polly["funding"], polly["industry_sponsored"]) == ("industry", True)


def test_every_registry_figure_names_a_study_and_advocacy_ones_say_so():
    registry = load_registry()
    studied = {s.source for s in STUDIES}
    figures = [(t.source, t.advocacy) for t in registry.trials]
    figures += [(f.source, f.advocacy) for c in registry.cohort for f in c.relieved]
    advocacy = advocacy_sources(KB)
    for source, marked in figures:
        assert source in KB.sources and source in studied, source
        assert marked == (source in advocacy), source
    assert not unmarked_advocacy(registry)
    hoffman = next(t for t in registry.trials if t.source == "hoffman_2018")
    assert unmarked_advocacy(registry.model_copy(update={
        "trials": [hoffman.model_copy(update={"advocacy": False})]})) == [
        "trials.prolotherapy: hoffman_2018"]


def test_the_cohort_draws_regenerative_relief_no_longer_than_the_ablations_from_trials():
    curves = {c.kind: c.relieved for c in load_registry().cohort}
    assert not any(f.source in ("seed_regenerative_article", "hauser_2009", "singla_2017")
                   for figures in curves.values() for f in figures)
    for regenerative in ("prolotherapy", "prp"):
        for ablation in ("rfa_conventional", "rfa_cooled"):
            assert max(f.percent for f in curves[regenerative]) < min(
                f.percent for f in curves[ablation] if f.months <= 6)


def test_the_registry_panel_labels_advocacy_beside_the_trials():
    panels = trial_panels(RegistryFigures(dt.date(2026, 11, 1), Filters(), {}))
    labels = {p.trial.source: p.label for kind in panels.values() for p in kind}
    assert "Advocacy" in labels["hoffman_2018"]
    assert labels["cohen_2008"] is None


def _criterion(policy: str, option: str, criterion: str):
    return next(c for c in KB.policies[policy].option(option).criteria if c.id == criterion)


def test_fusion_needs_two_blocks_credited_to_the_payers_that_ask_for_two_not_nass():
    for policy in ("medicare", "clinic"):
        rule = _criterion(policy, "mis_sij_fusion", "two_concordant_blocks")
        assert rule.provisional and "nass_2015" not in rule.sources
        assert {"evicore_cmm611", "ambetter_sij_fusion"} <= set(rule.sources)
        assert KB.policies[policy].fusion_block_threshold == 75


def test_medicares_75_percent_for_the_steroid_injection_is_provisional():
    rule = _criterion("medicare", "therapeutic_sij_injection", "diagnostic_block_confirmed")
    assert rule.provisional and "secondary" in rule.text
    assert all(KB.sources[s].firmness != "verified" for s in rule.sources)


def test_lasting_relief_keeps_12_weeks_and_says_why():
    """The payers' "3 months" is read as 12 whole weeks (the contract's number); the knowledge
    file says so beside it, and marks the figure provisional."""
    from importlib import resources

    text = resources.files("sijcare.knowledge").joinpath("pathway.yaml").read_text()
    assert KB.pathway.lasting_relief.weeks == 12 and KB.pathway.lasting_relief.provisional
    assert "3 months" in text and "12 weeks" in text


def test_each_session_limit_names_the_source_of_its_own_number():
    for policy in ("medicare", "clinic"):
        diagnostic = _criterion(policy, "diagnostic_sij_injection", "diagnostic_sessions_limit")
        therapeutic = _criterion(policy, "therapeutic_sij_injection",
                                 "therapeutic_sessions_limit")
        assert diagnostic.sources == ["lcd_billing_articles"] and diagnostic.provisional
        assert therapeutic.sources == ["ngs_faq_siji"]
    for treatment in KB.evidence.treatments:
        for line in treatment.guideline_positions:
            assert "2 diagnostic and 4 therapeutic" not in line.position, treatment.id


def test_repeat_ablation_says_the_source_counts_per_side():
    rule = _criterion("clinic", "sij_rfa", "rfa_interval")
    assert "per level and side" in rule.text and rule.provisional

"""The knowledge base: every item cited, every source resolvable, every check implemented."""

from __future__ import annotations

from sijcare.engine.eligibility import CHECKS
from sijcare.explain import catalogue
from sijcare.knowledge import load_knowledge
from tests.conftest import make, run

KB = load_knowledge()


def test_every_cited_source_resolves():
    cited = KB.cited()
    assert len(cited) > 150
    assert all(source in KB.sources for _, source in cited)


def test_every_criterion_names_an_implemented_check_and_cites():
    for policy in KB.policies.values():
        for option in policy.options:
            assert option.sources
            for c in option.criteria:
                assert c.check in CHECKS, c.check
                assert c.sources


def test_provisional_criteria_rest_on_secondary_sources():
    for policy in KB.policies.values():
        for option in policy.options:
            for c in option.criteria:
                if c.provisional:
                    assert any(KB.sources[s].firmness != "verified" for s in c.sources), c.id


def test_both_policies_are_present_with_their_thresholds():
    assert KB.policies["medicare"].block_threshold == 75
    assert KB.policies["clinic"].block_threshold == 50
    assert not KB.policies["medicare"].option("sij_rfa").covered
    assert KB.policies["clinic"].option("sij_rfa").covered


def test_laslett_cluster_values():
    cluster = KB.examination.clusters[0]
    assert (cluster.min_positive, cluster.lr_positive, cluster.lr_negative) == (3, 4.29, 0.08)


def test_evidence_covers_every_treatment_and_labels_advocacy():
    ids = [t.id for t in KB.evidence.treatments]
    assert ids == ["conservative_care", "diagnostic_block", "steroid_injection", "prolotherapy",
                   "prp",
                   "rfa_conventional", "rfa_cooled", "mis_fusion"]
    studies = [s for t in KB.evidence.treatments for s in t.studies]
    assert any(s.advocacy for s in studies)
    assert all(s.design for s in studies)
    advocacy = [s for s in studies if s.advocacy]
    assert all(s.design not in ("rct", "meta_analysis") for s in advocacy)


def test_kurosawa_items_sum_to_nine():
    assert sum(i.points for i in KB.examination.kurosawa.items) == 9


def test_every_rule_an_assessment_cites_can_be_explained():
    rules = catalogue(KB)
    result = run(make(history__red_flags=["fever"], history__spa_features=[
        "buttock_pain", "arthritis", "psoriasis"], exam__hip_rotation_pain=True))
    cited = [r.rule for r in [*result.reasons, *result.stage_reasons,
                              *[r for f in result.red_flags for r in f.reasons],
                              *[r for f in result.differential for r in f.reasons],
                              *result.pain_pattern.reasons]]
    cited += [f"referral.{r.id}" for r in result.referrals if r.action == "urgent"]
    cited += [o.reasons[0].rule for o in result.eligibility.values()]
    fused = run(make(procedures=[{"date": "2026-07-01", "kind": "mis_fusion", "side": "left"}]))
    stopped = run(make(blocks=[]))  # diagnostic block stage, its option stopped by nothing
    surgical = run(make(history__side="left", procedures=[
        {"date": "2026-07-01", "kind": "steroid_injection", "guidance": "fluoroscopy",
         "relief_percent": 10, "relief_weeks": 2}],
        conservative_care=[{"type": "physical_therapy", "start": "2026-01-01"}]))
    cited += [r.rule for a in (fused, stopped, surgical) for r in a.reasons]
    assert {"prior_fusion", "option_stopped"} <= set(cited)
    assert all(rule in rules for rule in cited), [r for r in cited if r not in rules]


def test_every_source_is_cited_somewhere():
    """In the engine's knowledge, or in the registry's trial figures and procedure codes."""
    from sijcare.analytics.knowledge import _cited, _read

    cited = {sid for _, sid in KB.cited()}
    cited |= {sid for name in ("registry.yaml", "codes.yaml", "fhir_codes.yaml")
              for sid in _cited(_read(name))}
    cited |= set(_read("fhir_codes.yaml")["anticoagulant_sources"])
    assert set(KB.sources) - cited == set()


def test_computed_likelihood_ratios_are_marked_and_unverified_left_gaenslen_is_blank():
    tests = {t.id: t for t in KB.examination.provocation_tests}
    assert tests["thigh_thrust"].computed == ["lr_negative"]
    assert tests["gaenslen_right"].computed == ["lr_positive", "lr_negative"]
    left = tests["gaenslen_left"]
    assert (left.sensitivity, left.specificity, left.lr_positive, left.lr_negative) == (
        None, None, None, None)
    assert left.note


def test_the_cluster_shows_the_pooled_meta_analysis_beside_laslett():
    cluster = next(c for c in KB.examination.clusters if c.id == "laslett_2005_3_of_6")
    assert (cluster.lr_positive, cluster.lr_negative) == (4.29, 0.08)
    assert cluster.pooled is not None
    assert (cluster.pooled.source, cluster.pooled.lr_positive, cluster.pooled.lr_negative) == (
        "saueressig_2021", 2.13, 0.33)
    assert "saueressig_2021" not in cluster.sources  # it is not the source of 4.29 / 0.08


def test_corrected_citations():
    assert KB.safety.steroid_interval.sources == ["evicore_cmm203"]
    assert KB.pathway.lasting_relief.provisional
    assert KB.pathway.sources["block_diary_minutes"] == ["sijcare_clinic_policy"]
    medicare, clinic = KB.policies["medicare"], KB.policies["clinic"]
    for policy in (medicare, clinic):  # v3: two blocks, credited to the payers that ask for two
        fusion = {c.id: c for c in policy.option("mis_sij_fusion").criteria}
        assert fusion["two_concordant_blocks"].provisional
        assert "nass_2015" not in fusion["two_concordant_blocks"].sources
        assert {"evicore_cmm611", "ambetter_sij_fusion"} <= set(
            fusion["two_concordant_blocks"].sources)
    for policy in (medicare, clinic):
        limit = next(c for c in policy.option("diagnostic_sij_injection").criteria
                     if c.id == "diagnostic_sessions_limit")
        assert limit.provisional
    assert medicare.option("regenerative_injection").provisional
    excluded = ("ngs_lcd_l39455", "cms_lcd_l39797")
    for option in ("sij_rfa", "regenerative_injection"):
        for c in clinic.option(option).criteria:
            assert not set(c.sources) & set(excluded), (option, c.id)


def test_guideline_strength_words_from_the_research_note():
    strengths = {(t.id, p.source): p.strength for t in KB.evidence.treatments
                 for p in t.guideline_positions}
    for treatment in ("prolotherapy", "prp"):
        assert strengths[(treatment, "mccormick_2025")] == "weak"
    assert strengths[("rfa_conventional", "mccormick_2025")] == "strong"
    studies = {(t.id, s.source): s for t in KB.evidence.treatments for s in t.studies}
    hoffman, cusi = studies[("prolotherapy", "hoffman_2018")], studies[("prolotherapy",
                                                                         "cusi_2010")]
    assert (hoffman.design, hoffman.advocacy) == (cusi.design, cusi.advocacy)

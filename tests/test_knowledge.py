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
    assert all(rule in rules for rule in cited), [r for r in cited if r not in rules]

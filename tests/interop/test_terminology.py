"""fhir_codes.yaml: every code cites a known source, billing codes agree with codes.yaml,
every sijcare code the export uses has its one label, and the import's look-ups work."""

from __future__ import annotations

from sijcare.knowledge.terminology import Terminology, load_terminology, problems
from sijcare.labels import labels

T = load_terminology()


def test_loads_and_looks_up_both_ways() -> None:
    assert T.concept_of("http://www.ama-assn.org/go/cpt", "64625") == "rfa_conventional"
    assert T.concept_of(T.codesystem, "latex") == "latex"
    assert T.concept_of("http://loinc.org", "0000-0") is None
    assert T.anticoagulant_class("http://www.nlm.nih.gov/research/umls/rxnorm", "11289") == \
        "vitamin_k_antagonist"
    assert T.anticoagulant_class("http://www.nlm.nih.gov/research/umls/rxnorm", "1191") is None


def test_problems_are_found() -> None:
    data = T.model_dump()
    data["concepts"]["nrs"][0]["sources"] = ["no_such_source"]
    data["concepts"]["latex"][0]["system"] = "nowhere"
    data["concepts"]["mis_fusion"][0]["code"] = "99999"
    found = problems(Terminology.model_validate(data), {("cpt", "27279")})
    assert any("no_such_source" in p for p in found)
    assert any("unknown system 'nowhere'" in p for p in found)
    assert any("99999 is not in codes.yaml" in p for p in found)


def test_every_concept_and_exported_code_has_a_label(resources: list[dict]) -> None:
    assert set(T.concepts) <= set(labels())

    def codes(node: object) -> set[str]:
        if isinstance(node, dict):
            own = {node["code"]} if node.get("system") == T.codesystem else set()
            return own.union(*(codes(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(codes(v) for v in node))
        return set()

    assert codes(resources) - set(labels()) == set()

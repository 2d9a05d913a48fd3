"""The education pages: readable (Flesch-Kincaid grade 8 or below), every footnote resolves
to a source in the bibliography, advocacy labelled, and the Markdown cannot inject markup."""

from __future__ import annotations

import re

import pytest
import textstat
from fastapi.testclient import TestClient

from sijcare.knowledge import KnowledgeError, load_knowledge
from sijcare.knowledge.content import Page, _check, load_pages
from sijcare.web.public.rendering import plain_text, render_markdown, render_page

PAGES = load_pages()
MAX_GRADE = 8.0
PROCEDURES = {"steroid-injection", "prolotherapy", "prp", "rfa", "fusion"}
PROCEDURE_SECTIONS = ("What happens", "Who it may suit", "Benefits", "Risks",
                      "Recovery and activity", "How many", "How long relief lasts",
                      "When to call the clinic")


def grade(slug: str) -> float:
    return textstat.flesch_kincaid_grade(plain_text(render_page(PAGES[slug])))


@pytest.mark.parametrize("slug", list(PAGES))
def test_every_page_reads_at_grade_8_or_below(slug: str) -> None:
    assert grade(slug) <= MAX_GRADE, f"{slug}: grade {grade(slug):.1f}"


def test_the_readability_measure_can_fail() -> None:
    hard = Page(slug="x", title="x", summary="x", section="help", order=1,
                body="Intra-articular corticosteroid administration demonstrates "
                     "heterogeneous effectiveness considering methodological limitations.")
    assert textstat.flesch_kincaid_grade(plain_text(render_page(hard))) > MAX_GRADE


def test_the_issue_topics_are_all_covered() -> None:
    assert {"si-joint", "causes", "symptoms", "diagnosis", "self-care", "urgent", "faq",
            *PROCEDURES} <= set(PAGES)
    faq = PAGES["faq"].body
    assert faq.count("\n## ") >= 10 and "stem cell" in faq.lower()


@pytest.mark.parametrize("slug", sorted(PROCEDURES))
def test_each_procedure_page_answers_the_same_questions(slug: str) -> None:
    headings = re.findall(r"^## (.+)$", PAGES[slug].body, flags=re.M)
    for wanted in PROCEDURE_SECTIONS:
        assert any(h.startswith(wanted) for h in headings), (slug, wanted)
    assert render_page(PAGES[slug]).evidence is not None and PAGES[slug].handout


def test_every_footnote_on_every_page_resolves_to_a_bibliography_entry(
        world_client: TestClient) -> None:
    sources = world_client.get("/learn/sources").text
    anchors = set(re.findall(r'<li id="([a-z0-9_]+)">', sources))
    kb = load_knowledge()
    for slug in PAGES:
        page = world_client.get(f"/learn/{slug}").text
        marks = set(re.findall(r'<a href="#fn-(\d+)">', page))
        notes = dict(re.findall(r'<li id="fn-(\d+)"><a href="/learn/sources#([a-z0-9_]+)"', page))
        assert marks and marks == set(notes), slug  # every mark has its note, and back
        for source_id in notes.values():
            assert source_id in kb.sources and source_id in anchors, (slug, source_id)


def test_advocacy_sources_are_labelled_where_cited(world_client: TestClient) -> None:
    page = world_client.get("/learn/prolotherapy").text
    note = re.search(r'<li id="fn-\d+"><a href="/learn/sources#hauser_2009".*?</li>', page,
                     flags=re.S)
    assert note and "Advocacy" in note.group(0)
    assert "Advocacy" in world_client.get("/learn/sources").text


def test_an_unknown_source_id_stops_the_load() -> None:
    page = Page(slug="bad", title="t", summary="s", section="help", order=1,
                body="A claim. [@no_such_study]")
    with pytest.raises(KnowledgeError, match="no_such_study"):
        _check(page, load_knowledge())


def test_markdown_cannot_inject_markup() -> None:
    html = render_markdown('<script>alert(1)</script> [x](javascript:alert(1)) '
                           '<img src=x onerror=alert(1)> **bold**', {})
    assert "<script" not in html and "href=\"javascript" not in html and "<img" not in html
    assert "<strong>bold</strong>" in html


def test_pages_are_public_and_unknown_ones_answer_404(world_client: TestClient) -> None:
    index = world_client.get("/learn")
    assert index.status_code == 200 and 'href="/learn/rfa"' in index.text
    assert world_client.get("/learn/no-such-page").status_code == 404


def claims_citing(source_id: str) -> list[str]:
    """The text each citation of `source_id` stands behind: back to the previous citation or
    the start of the line, on every page."""
    found = []
    for page in PAGES.values():
        start = 0
        for match in re.finditer(r"\[@([^\]]+)\]", page.body):
            if source_id in re.split(r"\s*;\s*@?", match.group(1)):
                found.append(page.body[start:match.start()].rsplit("\n", 1)[-1].strip())
            start = match.end()
    return found


@pytest.mark.parametrize("slug, wording", [
    ("prp", "those given PRP had less pain at 3 months"),
    ("prp", "The trials above used a single injection"),
    ("fusion", "one-time operation"),
    ("diagnosis", "the needle often lands in the wrong place"),
    ("steroid-injection", "only worth it"),
    ("causes", "Hormones loosen the ligaments"),
    ("causes", "extra weight loads the joints"),
])
def test_the_unsupported_page_claims_are_gone(slug: str, wording: str) -> None:
    assert wording not in PAGES[slug].body


def test_fusion_benefits_carry_the_no_comparison_group_caveat_like_prolotherapy() -> None:
    for slug in ("prolotherapy", "fusion"):
        benefits = PAGES[slug].body.split("## Benefits")[1].split("\n## ")[0]
        assert "no comparison group" in benefits, slug


def test_the_repeat_rule_is_stated_as_medicare_payment_and_prp_as_reported() -> None:
    steroid = PAGES["steroid-injection"].body
    assert "Medicare pays for a repeat only if" in steroid
    assert any("reported less pain at 3 months" in c for c in claims_citing("singla_2017"))


def test_jee_2014_is_cited_only_for_guided_injections() -> None:
    """It compared ultrasound with X-ray guidance; it says nothing about unguided needles."""
    claims = claims_citing("jee_2014")
    assert claims
    for claim in claims:
        assert not re.search(r"without|wrong place|blind", claim, re.I), claim

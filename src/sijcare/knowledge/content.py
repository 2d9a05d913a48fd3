"""Patient-facing pages: Markdown with front matter in `content/`, citing source ids.

A citation is written `[@source_id]` or `[@one; @two]` after the sentence it supports; every
id must be in `sources.yaml`, checked at load like the rest of the knowledge base. A
procedure page names its `treatment` in `evidence.yaml` and the `guideline` whose position
is quoted as the page's "how strong is the evidence" line.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Literal

import frontmatter
from pydantic import BaseModel, ConfigDict

from sijcare.knowledge import (
    GuidelinePosition,
    Knowledge,
    KnowledgeError,
    Source,
    Study,
    load_knowledge,
)

CITATION = re.compile(r"\[@([a-z0-9_]+(?:\s*;\s*@[a-z0-9_]+)*)\]")
Section = Literal["basics", "treatments", "help"]


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str
    title: str
    summary: str
    section: Section
    order: int
    treatment: str | None = None
    guideline: str | None = None
    handout: bool = False
    body: str

    def cited(self) -> list[str]:
        """Source ids in the order they are first cited."""
        found: list[str] = []
        for match in CITATION.finditer(self.body):
            for sid in citation_ids(match.group(1)):
                if sid not in found:
                    found.append(sid)
        return found


def citation_ids(marker: str) -> list[str]:
    """The ids of one marker's inner text (`a; @b` of `[@a; @b]`)."""
    return [part.strip().lstrip("@") for part in marker.split(";")]


def evidence_line(page: Page, knowledge: Knowledge) -> GuidelinePosition | None:
    """The guideline's own position on the page's treatment, from the evidence table."""
    if page.treatment is None:
        return None
    treatment = next(t for t in knowledge.evidence.treatments if t.id == page.treatment)
    return next(p for p in treatment.guideline_positions if p.source == page.guideline)


def _studies(knowledge: Knowledge) -> list[Study]:
    return [*(s for t in knowledge.evidence.treatments for s in t.studies),
            *knowledge.evidence.background]


def advocacy_sources(knowledge: Knowledge) -> frozenset[str]:
    """Sources the evidence table flags as advocacy (a practice promoting what it sells)."""
    return frozenset(s.source for s in _studies(knowledge) if s.advocacy)


def industry_sources(knowledge: Knowledge) -> frozenset[str]:
    """Sources the evidence table flags as industry-sponsored (paid for by a company)."""
    return frozenset(s.source for s in _studies(knowledge) if s.industry_sponsored)


def source_label(source: Source, knowledge: Knowledge) -> str | None:
    """What a reader must know about a source before trusting it, or None."""
    labels = []
    if source.id in advocacy_sources(knowledge) or source.id == "seed_regenerative_article":
        labels.append("Advocacy: written by people who sell this treatment")
    elif source.design == "clinic_data":
        labels.append("A clinic's own material, not a study")
    if source.id in industry_sources(knowledge):
        labels.append("Industry-sponsored: paid for by a company with a stake in the result")
    return ". ".join(labels) or None


def _check(page: Page, knowledge: Knowledge) -> None:
    unknown = [sid for sid in page.cited() if sid not in knowledge.sources]
    if unknown:
        raise KnowledgeError(f"content/{page.slug}.md cites unknown sources: "
                             + ", ".join(unknown))
    if (page.treatment is None) != (page.guideline is None):
        raise KnowledgeError(f"content/{page.slug}.md: give treatment and guideline together")
    if page.treatment is not None:
        try:
            evidence_line(page, knowledge)
        except StopIteration:
            raise KnowledgeError(f"content/{page.slug}.md: no position of {page.guideline} on "
                                 f"{page.treatment} in evidence.yaml") from None


@cache
def load_pages() -> dict[str, Page]:
    """Every page by slug, in reading order, with its citations checked."""
    knowledge = load_knowledge()
    pages = []
    for entry in resources.files(__package__).joinpath("content").iterdir():
        if entry.name.endswith(".md"):
            post = frontmatter.loads(entry.read_text(encoding="utf-8"))
            page = Page(slug=entry.name.removesuffix(".md"), body=post.content, **post.metadata)
            _check(page, knowledge)
            pages.append(page)
    return {p.slug: p for p in sorted(pages, key=lambda p: (p.order, p.slug))}

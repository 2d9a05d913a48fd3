"""Content pages to safe HTML: Markdown (markdown-it-py), sanitised (nh3), then footnotes.

Citations become numbered footnote links in order of first use; the page ends with its
footnotes, each naming the source, its kind of study, any advocacy label, and a link to the
bibliography. Footnote markup is built here from escaped values after sanitising, so the
Markdown itself can never inject markup.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from sijcare.knowledge import load_knowledge, short_citation
from sijcare.knowledge.content import CITATION, Page, citation_ids, evidence_line, source_label

_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable("table")
ALLOWED_TAGS = {"p", "h2", "h3", "ul", "ol", "li", "strong", "em", "a", "table", "thead",
                "tbody", "tr", "th", "td", "blockquote", "code"}
DESIGN_WORDS = {
    "rct": "randomised trial", "meta_analysis": "pooled analysis of studies",
    "systematic_review": "review of studies", "narrative_review": "expert review",
    "cohort": "study following a group", "case_series": "report on a few patients",
    "cross_sectional": "survey of patients", "diagnostic_accuracy": "test accuracy study",
    "guideline": "guideline", "consensus": "expert consensus guideline",
    "clinic_data": "a clinic's own report", "textbook": "book",
}


@dataclass(frozen=True)
class Footnote:
    number: int
    source_id: str
    label: str
    design: str
    warning: str | None


@dataclass(frozen=True)
class Rendered:
    html: Markup
    footnotes: tuple[Footnote, ...]
    evidence: Markup | None


def design_words(design: str) -> str:
    return DESIGN_WORDS.get(design, design.replace("_", " "))


def _footnote(number: int, source_id: str) -> Footnote:
    knowledge = load_knowledge()
    source = knowledge.sources[source_id]
    return Footnote(number, source_id, short_citation(source), design_words(source.design),
                    source_label(source, knowledge))


def _cite(ids: list[str], numbers: dict[str, int]) -> str:
    links = ", ".join(f'<a href="#fn-{numbers[i]}">{numbers[i]}</a>' for i in ids)
    return f'<sup class="cite">[{links}]</sup>'


def _with_citations(text: str, numbers: dict[str, int]) -> str:
    return CITATION.sub(lambda m: _cite(citation_ids(m.group(1)), numbers), text)


def render_markdown(body: str, numbers: dict[str, int]) -> str:
    """Sanitised HTML with citation markers turned into footnote links."""
    clean = nh3.clean(_markdown.render(body), tags=ALLOWED_TAGS,
                      attributes={"a": {"href"}, "th": {"scope"}},
                      url_schemes={"http", "https", "mailto"}, link_rel=None)
    return _with_citations(clean, numbers)


@cache
def render_page(page: Page) -> Rendered:
    position = evidence_line(page, load_knowledge())
    ids = ([position.source] if position else []) + page.cited()  # in the order shown
    ids = list(dict.fromkeys(ids))
    numbers = {sid: n for n, sid in enumerate(ids, start=1)}
    evidence = None
    if position is not None:
        who = short_citation(load_knowledge().sources[position.source])
        evidence = Markup(f"{escape(who)} says: <q>{escape(position.position)}</q> "
                          f"{_cite([position.source], numbers)}")
    return Rendered(Markup(render_markdown(page.body, numbers)),
                    tuple(_footnote(n, sid) for sid, n in numbers.items()), evidence)


def plain_text(rendered: Rendered) -> str:
    """What a reader reads, for readability scores: blocks as sentences, no footnote marks."""
    markup = re.sub(r'<sup class="cite">.*?</sup>', "", str(rendered.html))
    if rendered.evidence is not None:
        markup += "<p>" + re.sub(r'<sup class="cite">.*?</sup>', "", str(rendered.evidence))
    blocks = re.split(r"</?(?:p|li|h2|h3|td|th|blockquote)>", markup)
    sentences = []
    for block in blocks:
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", block)).split())
        if text:
            sentences.append(text if text[-1] in ".?!:" else text + ".")
    return " ".join(sentences)

"""The education pages under /learn: no sign-in, content from the knowledge base."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from sijcare.knowledge import load_knowledge, short_citation
from sijcare.knowledge.content import load_pages, source_label
from sijcare.web.public.page import render_public
from sijcare.web.public.rendering import design_words, render_page

router = APIRouter(include_in_schema=False)
SECTIONS = (("basics", "Understanding SI joint pain"), ("treatments", "Care and treatments"),
            ("help", "Getting help"))


@router.get("/learn", name="learn.index")
def learn_index(request: Request) -> Response:
    pages = list(load_pages().values())
    return render_public(request, "public/learn_index.html", {
        "sections": [(title, [p for p in pages if p.section == key]) for key, title in SECTIONS]})


@router.get("/learn/sources", name="learn.sources")
def bibliography(request: Request) -> Response:
    """Every source any page cites, with what kind of evidence it is."""
    knowledge = load_knowledge()
    cited = sorted({f.source_id for page in load_pages().values()
                    for f in render_page(page).footnotes},
                   key=lambda sid: short_citation(knowledge.sources[sid]).lower())
    entries = [(knowledge.sources[sid], short_citation(knowledge.sources[sid]),
                design_words(knowledge.sources[sid].design),
                source_label(knowledge.sources[sid], knowledge)) for sid in cited]
    return render_public(request, "public/sources.html", {"entries": entries})


@router.get("/learn/{slug}", name="learn.page")
def learn_page(request: Request, slug: str) -> Response:
    page = load_pages().get(slug)
    if page is None:
        raise HTTPException(404, "There is no such page. Try the list of topics.")
    return render_public(request, "public/learn_page.html", {"page": page,
                                                      "rendered": render_page(page)})

"""Printable handouts: one PDF per procedure, from the same content as its page.

A handout keeps what a patient needs at home (what happens, risks, recovery, when to call)
and prints the clinic's name and phone from the settings. WeasyPrint lays it out.
"""

from __future__ import annotations

import re
from functools import lru_cache

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from sijcare.knowledge.content import Page, load_pages
from sijcare.reports.weasy import write_pdf
from sijcare.web.public.page import ClinicContact, clinic_contact
from sijcare.web.public.rendering import Footnote, render_markdown, render_page
from sijcare.web.templating import templates

router = APIRouter(include_in_schema=False)
HANDOUT_SECTIONS = ("What happens", "Risks", "Recovery and activity", "How many",
                    "When to call the clinic")


def sections(page: Page) -> list[tuple[str, str]]:
    """(heading, Markdown) of the page's sections a handout keeps, in page order."""
    parts = re.split(r"^## (.+)$", page.body, flags=re.M)
    pairs = list(zip(parts[1::2], parts[2::2], strict=True))
    return [(h.strip(), text) for h, text in pairs if h.startswith(HANDOUT_SECTIONS)]


def handout_html(page: Page, clinic: ClinicContact) -> str:
    rendered = render_page(page)
    numbers = {f.source_id: f.number for f in rendered.footnotes}
    kept = [(heading, render_markdown(text, numbers)) for heading, text in sections(page)]
    cited = set(re.findall(r'href="#fn-(\d+)"', "".join(html for _, html in kept)))
    notes: list[Footnote] = [f for f in rendered.footnotes if str(f.number) in cited]
    return templates.get_template("public/handout.html").render(
        page=page, clinic=clinic, sections=kept, footnotes=notes, evidence=rendered.evidence)


@lru_cache(maxsize=32)
def handout_pdf(page: Page, clinic: ClinicContact) -> bytes:
    return write_pdf(handout_html(page, clinic))


@router.get("/learn/{slug}/handout.pdf", name="learn.handout")
def handout(request: Request, slug: str) -> Response:
    page = load_pages().get(slug)
    if page is None or not page.handout:
        raise HTTPException(404, "There is no handout for this page.")
    return Response(handout_pdf(page, clinic_contact(request)), media_type="application/pdf",
                    headers={"content-disposition": f'inline; filename="{slug}-handout.pdf"'})

"""The self-screen in words for the person who answered it: what it found, then what to do.

With a warning sign only the urgent-care message is printed, so nothing else competes with it.
When a warning sign was answered "not sure", the call to a doctor or nurse line comes first.
"""

from __future__ import annotations

import textwrap

from sijcare.knowledge import Knowledge
from sijcare.model.screen import ScreenResult

HEADINGS = {
    "seek_urgent_care": "Get medical help now",
    "fits_sij": "Your answers fit pain from the sacroiliac joint",
    "exam_decides": "An examination is needed to tell",
    "unlikely_sij": "Your answers do not point to the sacroiliac joint",
}


def _paragraph(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=78)


def render_screen(result: ScreenResult, kb: Knowledge) -> str:
    """Plain text: a heading, one paragraph per reason, the next step last."""
    if result.result == "seek_urgent_care":
        heading = HEADINGS["seek_urgent_care"] if result.emergency else "See a doctor urgently"
        return "\n\n".join([heading.upper(), *(_paragraph(r.text) for r in result.reasons)]) + "\n"
    first = [r for r in result.reasons if r.rule == "unsure_red_flag"]
    call_first = [kb.screen.texts["call_first"].upper(), *(_paragraph(r.text) for r in first)]
    paragraphs = [_paragraph(r.text) for r in result.reasons if r not in first]
    closing = _paragraph(kb.screen.texts["not_a_diagnosis"])
    return "\n\n".join([*(call_first if first else []), HEADINGS[result.result], *paragraphs,
                        closing]) + "\n"

"""The ODI's wording: the questionnaire is copyrighted, so sijcare ships its section titles and
0-5 scores only, and shows the statements where the clinic configures a licensed text file
(`SIJCARE_ODI_TEXT_FILE`, JSON: ten sections of six statements)."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from sijcare.instruments.odi import SECTIONS

ODI_TEXT_ENV = "SIJCARE_ODI_TEXT_FILE"


class OdiSection(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=100)]
    choices: Annotated[list[Annotated[str, Field(min_length=1, max_length=300)]],
                       Field(min_length=6, max_length=6)]


class OdiText(BaseModel):
    """The clinic's licensed ODI wording: ten sections, six statements each (0 to 5)."""

    sections: Annotated[list[OdiSection], Field(min_length=10, max_length=10)]


@cache
def licensed_odi(path: str) -> OdiText:
    """The clinic's ODI file (JSON); ValueError naming the problem if it is not usable."""
    try:
        return OdiText.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as error:
        raise ValueError(f"{ODI_TEXT_ENV} ({path}) is not a usable ODI text file: "
                         f"{error}") from None


def odi_sections() -> list[dict[str, Any]]:
    """Each ODI section's title and its six choices: the licensed text, else 0-5 only."""
    path = os.environ.get(ODI_TEXT_ENV, "").strip()
    if path:
        return [{"title": s.title, "choices": s.choices} for s in licensed_odi(path).sections]
    return [{"title": title, "choices": None} for title in SECTIONS]

"""The registry's knowledge: follow-up points, published figures, cohort effect sizes, codes.

Kept in `knowledge/registry.yaml` and `knowledge/codes.yaml`, validated once, and every source
id checked against the one bibliography, as for the rest of the knowledge base.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import Field

from sijcare.knowledge import Item, KnowledgeError, load_knowledge
from sijcare.knowledge.content import advocacy_sources
from sijcare.model.case import ProcedureKind

Measure = Literal["responders", "durability", "odi_change", "pain_change"]
DAYS_PER_MONTH = 30.4  # registry months are 30.4-day blocks (see registry.yaml)


class Point(Item):
    id: str
    days: int
    before: int
    after: int


class Definition(Item):
    id: str
    text: str
    sources: list[str]


class Figure(Item):
    measure: Measure
    months: float
    point: str | None
    percent: float | None = None
    points: float | None = None


class Trial(Item):
    treatment: ProcedureKind
    source: str
    design: str
    n: int | None
    arm: str
    definition: str
    compares_with: str
    differs: str | None
    advocacy: bool = False  # required where evidence.yaml flags the source as advocacy
    figures: list[Figure]


class CohortFigure(Item):
    """The share still relieved at `months` after a procedure, read from one study arm."""

    months: float
    percent: float
    source: str
    advocacy: bool = False  # as for Trial
    note: str | None = None  # where the figure is borrowed from another arm or converted


class CohortCurve(Item):
    kind: ProcedureKind
    relieved: list[CohortFigure]  # by months, increasing


class Registry(Item):
    points: list[Point]
    baseline_days: int
    definitions: list[Definition]
    durability_relief_percent: float
    trials: list[Trial]
    cohort: list[CohortCurve]

    def point(self, point_id: str) -> Point:
        return next(p for p in self.points if p.id == point_id)


class Code(Item):
    code: str
    system: Literal["CPT", "HCPCS", "ICD-10-CM"]
    text: str
    note: str | None = None
    sources: list[str]


class OptionCodes(Item):
    option: str
    treatments: list[str]  # evidence.yaml treatment ids
    codes: list[Code]
    note: str | None = None
    sources: list[str] = Field(default_factory=list)


class Codes(Item):
    diagnoses: list[Code]
    options: list[OptionCodes]

    def for_option(self, option: str) -> OptionCodes | None:
        return next((o for o in self.options if o.option == option), None)


def _read(name: str) -> Any:
    text = resources.files("sijcare.knowledge").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _cited(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key == "sources":
                found.extend(value)
            elif key == "source":
                found.append(value)
            else:
                found.extend(_cited(value))
        return found
    if isinstance(node, list):
        return [sid for value in node for sid in _cited(value)]
    return []


def _checked(name: str) -> Any:
    data = _read(name)
    known = load_knowledge().sources
    dangling = sorted({sid for sid in _cited(data) if sid not in known})
    if dangling:
        raise KnowledgeError(f"{name}: unknown source ids: {', '.join(dangling)}")
    return data


def unmarked_advocacy(registry: Registry) -> list[str]:
    """Figures whose source evidence.yaml flags as advocacy but which do not say so."""
    knowledge = load_knowledge()
    flagged = advocacy_sources(knowledge) | {
        sid for sid, source in knowledge.sources.items() if source.design == "clinic_data"}
    found = [f"trials.{t.treatment}: {t.source}" for t in registry.trials
             if t.source in flagged and not t.advocacy]
    found += [f"cohort.{c.kind}: {f.source}" for c in registry.cohort for f in c.relieved
              if f.source in flagged and not f.advocacy]
    return found


@cache
def load_registry() -> Registry:
    registry = Registry.model_validate(_checked("registry.yaml"))
    ids = {p.id for p in registry.points}
    stray = [f.point for t in registry.trials for f in t.figures if f.point and f.point not in ids]
    if stray:
        raise KnowledgeError(f"registry.yaml: unknown points: {', '.join(stray)}")
    unordered = [c.kind for c in registry.cohort
                 if [f.months for f in c.relieved] != sorted({f.months for f in c.relieved})]
    if unordered:
        raise KnowledgeError(f"registry.yaml: cohort months not increasing: {', '.join(unordered)}")
    unmarked = unmarked_advocacy(registry)
    if unmarked:
        raise KnowledgeError("registry.yaml: advocacy figures not marked advocacy: true: "
                             + ", ".join(unmarked))
    return registry


@cache
def load_codes() -> Codes:
    return Codes.model_validate(_checked("codes.yaml"))

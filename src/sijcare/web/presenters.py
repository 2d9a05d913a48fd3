"""What the templates need to show an `Assessment`: citations, labels and orderings.

Pure functions over the engine's output and the knowledge base; no decisions are made here,
only words and order, so the page shows exactly what `assess()` concluded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sijcare.knowledge import Stage, load_knowledge, short_citation
from sijcare.model.assessment import Alert, Assessment

STATUS_LABELS = {"met": "Met", "not_met": "Not met", "unknown": "Unknown",
                 "not_covered": "Not covered"}
SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}
SEVERITY_LABELS = {"block": "Blocks the option", "warn": "Warning", "info": "Note"}


@dataclass(frozen=True)
class Citation:
    id: str
    short: str
    citation: str
    url: str | None
    firmness: str


def citations(ids: list[str]) -> tuple[Citation, ...]:
    return _citations(tuple(ids))


@lru_cache(maxsize=1024)
def _citations(ids: tuple[str, ...]) -> tuple[Citation, ...]:
    """A page cites the same few source lists many times; each is looked up once."""
    sources = load_knowledge().sources
    return tuple(Citation(i, short_citation(sources[i]), sources[i].citation, sources[i].url,
                          sources[i].firmness) for i in dict.fromkeys(ids) if i in sources)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, label(status))


def label(identifier: str) -> str:
    """`diagnostic_block_75` -> `Diagnostic block 75`."""
    return identifier.replace("_", " ").capitalize()


def stage(stage_id: str) -> Stage:
    return next(s for s in load_knowledge().pathway.stages if s.id == stage_id)


def alerts_by_severity(alerts: list[Alert]) -> list[Alert]:
    """Most severe first; stable, so the engine's order holds within a severity."""
    return sorted(alerts, key=lambda a: SEVERITY_ORDER[a.severity])


@dataclass(frozen=True)
class ToDocument:
    option: str
    criterion: str
    what: str


def document_next(assessment: Assessment) -> list[ToDocument]:
    """Criteria still unknown for a covered option, with what to record to settle them."""
    return [ToDocument(option.name, c.id, c.document or c.detail)
            for option in assessment.eligibility.values() if option.status != "not_covered"
            for c in option.criteria if c.status == "unknown"]


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if "minutes" in value and "pain" in value:
            return f"{value['minutes']} min: {value['pain']:g}"
        return ", ".join(f"{label(k)}: {_text(v)}" if not isinstance(v, str) else v
                         for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "none"
    return str(value).replace("_", " ")


def record_lines(data: dict[str, object]) -> list[tuple[str, str]]:
    """A saved record as label/value lines for the timeline; nested parts on one line."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            text = "; ".join(f"{label(k)} {_text(v)}" for k, v in value.items())
        else:
            text = _text(value)
        lines.append((label(key), text))
    return lines


def policies() -> list[tuple[str, str]]:
    return [(p.id, p.name) for p in load_knowledge().policies.values()]


TEMPLATE_GLOBALS = {
    "citations": citations, "status_label": status_label, "label": label, "stage": stage,
    "alerts_by_severity": alerts_by_severity, "document_next": document_next,
    "severity_label": SEVERITY_LABELS.get, "policies": policies, "record_lines": record_lines,
}

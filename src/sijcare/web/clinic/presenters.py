"""What the templates need to show an `Assessment`: citations, labels and orderings.

Pure functions over the engine's output and the knowledge base; no decisions are made here,
only words and order, so the page shows exactly what `assess()` concluded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

from sijcare import labels
from sijcare.decision import STATUS_WORDS
from sijcare.engine.provocation_count import count_provocation
from sijcare.knowledge import Stage, load_knowledge, short_citation
from sijcare.model.assessment import Alert, PainPattern
from sijcare.stops import status_words

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


def sources_html(ids: list[str]) -> Markup:
    """The folded "Sources:" line with each full citation; a page shows the same few source
    lists many times, so each is built once (the template macro cost most of the page)."""
    return _sources_html(tuple(ids)) if ids else Markup("")


@lru_cache(maxsize=1024)
def _sources_html(ids: tuple[str, ...]) -> Markup:
    cited = citations(list(ids))
    items = "".join(
        Markup("<li><cite>{}</cite>{}{}</li>").format(
            c.citation,
            Markup(' <span class="tag">{} source</span>').format(c.firmness)
            if c.firmness != "verified" else "",
            Markup(' <a href="{0}" rel="noreferrer noopener">{0}</a>').format(c.url)
            if c.url else "")
        for c in cited)
    return Markup('<details class="sources">\n  <summary title="{}">Sources: {}</summary>\n'
                  '  <ul>{}</ul>\n</details>').format(
        " | ".join(c.citation for c in cited), ", ".join(c.short for c in cited),
        Markup(items))


def status_html(status: str) -> Markup:
    return Markup('<span class="status {}">{}</span>').format(status, status_label(status))


def status_label(status: str) -> str:
    return STATUS_WORDS.get(status) or labels.label(status)


label = labels.label


def clue_count(pattern: PainPattern) -> str:
    """How many pain-pattern clues are present, never "0 present" when they are unknown."""
    counts = {s: sum(c.status == s for c in pattern.clues) for s in ("present", "absent",
                                                                     "unknown")}
    total = len(pattern.clues)
    if counts["unknown"] == total:
        return f"Clues not recorded (all {total} unknown)"
    parts = [f"{counts['present']} of {total} clues present"]
    parts += [f"{counts[s]} {word}" for s, word in (("absent", "absent"),
                                                    ("unknown", "not recorded")) if counts[s]]
    return ", ".join(parts)


def stage(stage_id: str) -> Stage:
    return next(s for s in load_knowledge().pathway.stages if s.id == stage_id)


def alerts_by_severity(alerts: list[Alert]) -> list[Alert]:
    """Most severe first; stable, so the engine's order holds within a severity."""
    return sorted(alerts, key=lambda a: SEVERITY_ORDER[a.severity])


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if "minutes" in value and "pain" in value:
            return f"{value['minutes']} min: {value['pain']:g}"
        return ", ".join(f"{label(k)}: {_text(v)}" if not isinstance(v, str) else _text(v)
                         for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "none"
    return labels.label(value) if value in labels.labels() else str(value)


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


def policy_names() -> dict[str, str]:
    return dict(policies())


# Answers by link outside a follow-up point's window: kept, the point done early or late.
TIMING_WORDS = {
    "early": "Answered early, before the point's window opened: kept, the point is done early",
    "late": "Answered late, after the point's window closed: kept, the point is done late",
}

TEMPLATE_GLOBALS = {
    "citations": citations, "sources_html": sources_html, "status_html": status_html,
    "status_label": status_label, "label": label, "stage": stage,
    "alerts_by_severity": alerts_by_severity,
    "severity_label": SEVERITY_LABELS.get, "policies": policies, "record_lines": record_lines,
    "words": labels.words, "inline": labels.inline, "clue_count": clue_count,
    "status_words": status_words,
    "policy_names": policy_names, "questionnaire": labels.questionnaire,
    "timing_words": TIMING_WORDS, "count_provocation": count_provocation,
}

"""Display labels for the codes of the vocabularies: one clinical label per code.

The labels live beside the knowledge base (`knowledge/labels.yaml`) and are loaded with it;
pages, the text report and PDFs all read them here, so a code reads the same everywhere.
`words()` rewrites engine and store text that names codes (`red flag(s): saddle_anesthesia`)
into clinical words and drops field paths written for programmers (`(history.red_flags)`).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

import yaml

from sijcare.knowledge import KnowledgeError, load_knowledge, short_citation

CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
WORD = re.compile(r"\b[a-z][a-z0-9]*\b")
# A parenthesis that names a field path (`history.red_flags`, `proms[0]`) or `[] if none`.
FIELD_PATH = re.compile(r"\s*\([^()]*(?:\b[a-z_]+\.[a-z_]+|\[\d*\])[^()]*\)")


@cache
def labels() -> dict[str, str]:
    """Every code with its label, read once, after the knowledge base it belongs to."""
    load_knowledge()
    return parse(_text())[0]


@cache
def _proper_names() -> frozenset[str]:
    return parse(_text())[1]


def _text() -> str:
    return resources.files("sijcare.knowledge").joinpath("labels.yaml").read_text("utf-8")


def parse(text: str) -> tuple[dict[str, str], frozenset[str]]:
    """(code -> label, names that keep their capital); a code labelled twice is an error."""
    data = yaml.safe_load(text) or {}
    proper = frozenset(data.pop("proper_names", []))
    found: dict[str, str] = {}
    for group, entries in data.items():
        for code, shown in (entries or {}).items():
            where = f"labels.yaml: {group}.{code}"
            if code in found:
                raise KnowledgeError(f"{where}: labelled twice (one label per code)")
            if not isinstance(shown, str) or not shown.strip():
                raise KnowledgeError(f"{where}: the label is empty")
            found[str(code)] = shown
    return found, proper


def label(code: str) -> str:
    """The code's label as it starts a line; a code without one reads as plain words."""
    return labels().get(code) or code.replace("_", " ").capitalize()


def inline(code: str) -> str:
    """The label inside a sentence: `Saddle anaesthesia` -> `saddle anaesthesia`; `MRI` and
    names (`Gaenslen (left)`) keep their capitals."""
    shown = label(code)
    if shown[1:2].isupper() or shown.split(" ")[0] in _proper_names():
        return shown
    return shown[:1].lower() + shown[1:]


def questionnaire(point: str) -> str:
    """What a link is for, inside a sentence: "6-month questionnaire" for `6m`, "baseline
    questionnaire"; never the code ("6m point")."""
    number, _, unit = inline(point).partition(" ")
    if number.isdigit() and unit:
        return f"{number}-{unit.removesuffix('s')} questionnaire"
    return f"{inline(point)} questionnaire"


@cache
def _abbreviations() -> frozenset[str]:
    """Single-word codes shown as abbreviations (`mri` -> MRI, `psis` -> PSIS tenderness);
    other single words (`left`, `block`) are ordinary English and are left alone in text."""
    return frozenset(c for c, shown in labels().items() if "_" not in c and shown[:2].isupper())


def _code(code: str) -> str:
    """A code's label; a source id (knowledge texts cite them inline) its short citation."""
    if code in labels():
        return inline(code)
    sources = load_knowledge().sources
    return short_citation(sources[code]) if code in sources else code


@lru_cache(maxsize=8192)
def words(text: str) -> str:
    """Engine, store or knowledge text in clinical words: codes become labels, cited source
    ids short citations, and field paths go."""
    text = FIELD_PATH.sub("", text)
    text = CODE.sub(lambda m: _code(m.group()), text)
    short = _abbreviations()
    return WORD.sub(lambda m: inline(m.group()) if m.group() in short else m.group(), text)


# A problem as the engine or the store reports it: `procedures[0].relief_weeks: 14 weeks ...`.
_LOCATED = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.*)$", re.S)
_PART = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def located(problem: str) -> str:
    """A `field.path: problem` line with the path in clinical words, counting from 1:
    `procedures[0].relief_weeks: ...` -> `Procedures 1, relief lasted (weeks): ...`."""
    found = _LOCATED.match(problem)
    if not found:
        return words(problem)
    parts = []
    for name, index in _PART.findall(found.group(1)):
        shown = label(name) if not parts else inline(name)
        parts.append(shown + (f" {int(index) + 1}" if index else ""))
    return f"{', '.join(parts)}: {words(found.group(2))}"

"""Read a case from YAML or JSON and turn validation failures into field-path sentences."""

from __future__ import annotations

import json
import re
import reprlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sijcare.model.case import Case


class CaseError(ValueError):
    """Bad case input; `problems` holds one `field.path: what is wrong` line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so `2026-02-30` becomes a field error, not a crash."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LONGEST_KEY = 60


def _key(part: str) -> str:
    """A key that is not a plain name (empty, spaced, dotted, control characters) quoted,
    so the path still names it, and cut short."""
    if _NAME.fullmatch(part) and len(part) <= LONGEST_KEY:
        return part
    shown = repr(part[:LONGEST_KEY]).encode("ascii", "backslashreplace").decode()
    return f"[{shown}{'...' if len(part) > LONGEST_KEY else ''}]"


def field_path(loc: tuple[int | str, ...]) -> str:
    """`('blocks', 0, 'pain_before')` -> `blocks[0].pain_before`; `('', 'a b')` ->
    `[''].['a b']`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{_key(part)}" if path else _key(str(part))
    return path


# Parts of an error location that name a union member, a validator or a mapping's key (the
# key itself is the part before it), not a field.
_MEMBER_TAGS = frozenset({"int", "float", "str", "bool", "[key]"})
_SHORT = reprlib.Repr()  # a wrong choice named in a line one can read, however big it was
_SHORT.maxstring = _SHORT.maxother = 40
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist = 1, 2, 2
_TAG = re.compile(r"[\w-]+\[.*\]")  # `list[Block]`, `function-after[...]`; a key "[" is sent


def problems_of(error: ValidationError, noun: str = "the case format",
                echo: bool = True) -> list[tuple[str, str]]:
    """`(field path, problem)` pairs; a union's per-member errors collapse into one.

    `echo` names a wrong choice in the message (helpful in a file one is editing); the web
    store passes False, since an answer must never repeat what was sent."""
    found: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = tuple(p for p in item["loc"]
                    if not (isinstance(p, str) and (p in _MEMBER_TAGS or _TAG.fullmatch(p))))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"is not a field of {noun} (check the spelling)"
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] == "literal_error" and echo:
            message = f"got {_SHORT.repr(item['input'])}; {message[0].lower()}{message[1:]}"
        found[field_path(loc)] = message
    return list(found.items())


def describe(error: ValidationError) -> list[str]:
    """One readable line per problem, naming the field path."""
    return [f"{path}: {message}" if path else message for path, message in problems_of(error)]


def parse_case(data: Any) -> Case:
    """Validate already-parsed data; raise `CaseError` with every problem found."""
    if not isinstance(data, dict):
        raise CaseError(["the case must be a mapping of fields (a YAML or JSON object)"])
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        raise CaseError(describe(error)) from None


def _syntax_problem(error: json.JSONDecodeError | yaml.YAMLError) -> str:
    """The parser's complaint on one line, with where it stopped (line and column from 1)."""
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def parse_text(text: str, *, kind: str = "yaml", name: str = "the input") -> Any:
    """Parse YAML (dates left as text) or JSON; a syntax error is one `CaseError` line."""
    try:
        if kind == "json":
            return json.loads(text)
        return yaml.load(text, Loader=_PlainLoader)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise CaseError([f"{name}: not valid {kind.upper()}: {_syntax_problem(error)}"]) from None
    except RecursionError:  # `[[[[...` thousands deep: the parsers recurse once per level
        raise CaseError([f"{name}: not valid {kind.upper()}: nested too deeply"]) from None


def read_data(source: str | Path, stdin_text: str | None = None, *, noun: str = "case") -> Any:
    """The parsed content of a `.json`/`.yaml` file, or of `-` (standard input, JSON or YAML)."""
    if str(source) == "-":
        text = stdin_text or ""
        kind = "json" if text.lstrip().startswith("{") else "yaml"
        name = "standard input"
    else:
        path = Path(source)
        if not path.is_file():
            raise CaseError([f"{path}: no such {noun} file"])
        text = path.read_text(encoding="utf-8")
        kind = "json" if path.suffix.lower() == ".json" else "yaml"
        name = str(path)
    return parse_text(text, kind=kind, name=name)


def load_case(source: str | Path, stdin_text: str | None = None) -> Case:
    """Load a case from a `.json`/`.yaml` path, or from `-` (standard input, JSON or YAML)."""
    return parse_case(read_data(source, stdin_text))

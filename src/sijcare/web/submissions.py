"""From a submitted form to nested data, keeping what the user typed.

Reading a form never saves anything: it returns the typed values (to refill the form), the
errors by input name, and drafts whose data the store validates. Blank stays absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from sijcare.web.forms import (
    NONE_OF_THESE,
    FormField,
)
from sijcare.web.strict import parse_number

FORM_LEVEL = ""  # the key for errors that belong to no single input


Value = str | list[str]


# The validation library's sentences, as a clinician would say them.
_PLAIN: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), words) for
                                                        pattern, words in (
    (r"^Input should be less than or equal to (\S+)$", r"must be \1 or less"),
    (r"^Input should be greater than or equal to (\S+)$", r"must be \1 or more"),
    (r"^Input should be greater than (\S+)$", r"must be more than \1"),
    (r"^Input should be less than (\S+)$", r"must be less than \1"),
    (r"^Input should be a valid integer.*$", "enter a whole number"),
    (r"^Input should be a valid (number|decimal).*$", "enter a number"),
    (r"^Input should be a valid boolean.*$", "choose yes or no"),
    (r"^String should have at least 1 character$", "cannot be left blank"),
    (r"^String should have at most (\d+) characters?$", r"at most \1 characters"),
    (r"^String should match pattern .*$", "use lower-case letters, digits and _ only"),
    (r"^List should have at least (\d+) items?.*$", r"needs at least \1 entries"),
    (r"^got .*; input should be .*$", "choose one of the listed options"),
    (r"^Input should be '.*$", "choose one of the listed options"),  # an enumeration's
))


def plain(message: str) -> str:
    """A validation message in plain words (`must be 10 or less`, not `Input should be...`)."""
    for pattern, words in _PLAIN:
        if pattern.match(message):
            return pattern.sub(words, message)
    return message


def attach(problems: list[tuple[str, str]], errors: dict[str, str], names: Iterable[str],
           inputs: dict[str, str] | None = None, prefix: str = "") -> None:
    """Put each store-reported `(path, message)` next to the input it came from.

    A path names an input directly, through the draft's `inputs` map, or as the parent of
    inputs (`pain_areas` -> its first share); anything else is shown above the form, once. In
    a combined form, only the inputs named `prefix...` are the record's, and keep the prefix;
    a path naming an input of the whole form (the visit's day) lands there, once for all parts.
    """
    every = list(names)
    own = [n.removeprefix(prefix) for n in every if n.startswith(prefix)]
    for path, message in problems:
        message = plain(message)
        name = (inputs or {}).get(path)
        if name is None and path:
            name = ((path if path in own else None)
                    or next((n for n in own if n.startswith(path + ".")), None))
        name = name or path
        if prefix + name in every:
            errors.setdefault(prefix + name, message)
        elif name in every:  # an input of the whole combined form (the visit's day)
            errors.setdefault(name, message)
        else:
            lines = errors[FORM_LEVEL].split("; ") if errors.get(FORM_LEVEL) else []
            line = f"{path}: {message}" if path else message
            errors[FORM_LEVEL] = "; ".join(lines if line in lines else [*lines, line])


def in_form_order(errors: dict[str, str], names: Iterable[str]) -> dict[str, str]:
    """The errors as the form asks its inputs (the form's own problems first), so the summary
    reads top to bottom like the form."""
    rank = {name: i for i, name in enumerate(names)}
    return dict(sorted(errors.items(), key=lambda item: (
        item[0] != FORM_LEVEL, rank.get(item[0], len(rank)))))


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> date:
    """Only YYYY-MM-DD: `date.fromisoformat` also takes week dates (2024-W01-1)."""
    if not ISO_DAY.fullmatch(text):
        raise ValueError
    return date.fromisoformat(text)


def _read(spec: FormField, raw: Value) -> Any:
    """The typed value of one input; raises ValueError with a sentence for the user."""
    if spec.kind == "multi":
        picked = list(raw) if isinstance(raw, list) else []
        if not picked:
            return None
        if NONE_OF_THESE in picked:
            if len(picked) > 1:
                raise ValueError("tick 'none of these' or the ones present, not both")
            return []
        allowed = {value for value, _ in spec.choices}
        if any(p not in allowed for p in picked):
            raise ValueError("tick only the listed options")
        return picked
    text = raw.strip() if isinstance(raw, str) else ""
    if text == "":
        return None
    if spec.kind == "date":
        try:
            return parse_date(text).isoformat()
        except ValueError:
            raise ValueError("enter a real date as YYYY-MM-DD") from None
    if spec.kind == "number":
        return _within(spec, parse_number(text))
    if spec.kind == "text":
        return text
    if spec.kind == "password":
        return raw
    if spec.kind == "tristate":
        if text not in ("yes", "no"):
            raise ValueError("choose yes, no or not recorded")
        return text == "yes"
    if text not in {value for value, _ in spec.choices}:
        raise ValueError("choose one of the listed options")
    return int(text) if spec.whole else text


def _within(spec: FormField, number: float) -> float:
    """The number if the field's range holds it: checked here, in the field's words, so a
    record is not refused later in a second round (or in the store's words)."""
    if spec.low is not None and number < spec.low:
        raise ValueError(f"must be {spec.low:g} or more")
    if spec.high is not None and number > spec.high:
        raise ValueError(f"must be {spec.high:g} or less")
    return number


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


def read_fields(fields: list[FormField], raw: FormData
                ) -> tuple[dict[str, Value], dict[str, str], dict[str, Any]]:
    """What was typed, what is wrong with it, and the nested data of the rest."""
    values: dict[str, Value] = {}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    for spec in fields:
        values[spec.name] = (raw.getlist(spec.name) if spec.kind == "multi"
                             else str(raw.get(spec.name) or ""))
        try:
            value = _read(spec, values[spec.name])
        except ValueError as problem:
            errors[spec.name] = str(problem)
            continue
        if value is not None:
            _put(data, spec.name, value)
    return values, errors, data

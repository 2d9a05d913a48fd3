"""What every stored form must be beyond its fields' types: dates that can be true, text
without control characters, and something actually recorded.

A record dated in the future would sit on the timeline while the assessment of today leaves
it out (its anticoagulant or allergy alert included), so no date may lie after today; dates
before 1900 are typing slips (`0001-01-01`), not history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

EARLIEST = dt.date(1900, 1, 1)
# One mailbox, nothing a mail header could be split on (no CR, LF, comma, angle brackets).
EMAIL = re.compile(r"^[^@\s<>,;\"\x00-\x1f\x7f-\x9f]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # \t \n \r kept


def date_problem(value: dt.date, today: dt.date) -> str | None:
    """Why `value` cannot be a date something happened on, or None."""
    if value > today:
        return f"is after today ({today}): it cannot have happened yet"
    if value < EARLIEST:
        return f"is before {EARLIEST}: not a plausible date"
    return None


def control_characters(text: str, lines: bool = False) -> bool:
    """Whether `text` holds control characters; with `lines` (a note, a comment: text typed
    in a text area) tabs and line breaks are text, and NUL, ESC and the rest still are not.
    PostgreSQL refuses a NUL (a 500), and an ESC would reach a terminal or a log as is."""
    return (_CONTROL_BUT_LINES if lines else _CONTROL).search(text) is not None


def text_lines(text: str) -> str:
    """A text area's text with every line break as `\n` (browsers send `\r\n`)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


CONTROL_PROBLEM = "must not contain control characters (line breaks, tabs and the like)"
CONTROL_IN_TEXT_PROBLEM = "must not contain control characters (like NUL or ESC)"


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def implausible(form: BaseModel, today: dt.date) -> list[tuple[str, str]]:
    """`(path, problem)` for each impossible date or text with control characters."""
    problems = []
    for path, value in _leaves(form.model_dump(), ""):
        if isinstance(value, dt.date) and (problem := date_problem(value, today)):
            problems.append((path, problem))
        elif isinstance(value, str) and control_characters(value):
            problems.append((path, CONTROL_PROBLEM))
    if not form.model_dump(exclude_none=True):
        problems.append(("", "nothing was recorded: fill in at least one field"))
    return problems

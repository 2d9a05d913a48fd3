"""422 answers in FastAPI's own shape, `{"detail": [{"loc": [...], "msg": ...}]}`."""

from __future__ import annotations

import re

from fastapi.exceptions import RequestValidationError

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def loc(path: str) -> list[str | int]:
    """`diary[1].pain` -> `["diary", 1, "pain"]`."""
    return [int(index) if index else name for name, index in _PART.findall(path)]


def unprocessable(problems: list[tuple[str, str]], *prefix: str | int) -> RequestValidationError:
    return RequestValidationError([
        {"type": "value_error", "loc": (*prefix, *loc(path)), "msg": message, "input": None}
        for path, message in problems])


def unprocessable_record(problems: list[tuple[str, str]]) -> RequestValidationError:
    """A record's problems: its fields sit under `body.data`, its `recorded_on` beside it."""
    return RequestValidationError([
        *unprocessable([p for p in problems if p[0] == "recorded_on"], "body").errors(),
        *unprocessable([p for p in problems if p[0] != "recorded_on"], "body", "data").errors()])

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

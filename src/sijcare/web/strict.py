"""What numbers and lines of text sent as text (form fields, query and path parameters) must
look like: numbers in ASCII digits, with an optional minus sign and decimals, not too many of
them; a line of text without control characters.

Python reads far more than that: `int()` and `float()` take Arabic-Indic and other Unicode
digits (`'\u0661'` is 1), `1_0`, `+3` and ` 3`; `float()` also `nan`, `inf` and `1e9`; and
`str.isdigit()` is true for `'²'`, which `int()` then refuses with an error nobody catches.
A NUL in a query reaches PostgreSQL, which refuses it with a 500. Every text-to-value step at
the web edge goes through here, so each refuses the same way: with a sentence naming what is
expected, never a 500.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, BeforeValidator, Field

from sijcare.store.models import MAX_ROW_ID
from sijcare.store.plausible import CONTROL_PROBLEM, control_characters

_WHOLE = re.compile(r"-?[0-9]{1,10}")  # 2^31 - 1, the largest id, has 10
_NUMBER = re.compile(r"-?[0-9]{1,10}(\.[0-9]{1,9})?")
WHOLE_PROBLEM = "enter a whole number, in digits (like 3)"
NUMBER_PROBLEM = "enter a number, in digits (like 7 or 2.5)"


def parse_whole(text: str) -> int:
    """`text` as a whole number; ValueError (WHOLE_PROBLEM) unless it is ASCII digits."""
    if not _WHOLE.fullmatch(text):
        raise ValueError(WHOLE_PROBLEM)
    return int(text)


def parse_number(text: str) -> int | float:
    """`text` as a number, whole numbers as `int`; ValueError (NUMBER_PROBLEM) unless it is
    ASCII digits with an optional minus sign and decimals."""
    if not _NUMBER.fullmatch(text):
        raise ValueError(NUMBER_PROBLEM)
    number = float(text)
    return int(number) if number.is_integer() else number


def one_line(value: str) -> str:
    """For text parameters: refuses control characters (NUL, ESC, CR, LF, TAB...)."""
    if control_characters(value):
        raise ValueError(CONTROL_PROBLEM)
    return value


def digits(value: object) -> object:
    """For query and path integers (pydantic, like `int()`, reads `1_0`, `+3` and ` 3`)."""
    return parse_whole(value) if isinstance(value, str) else value


def _blank_is_none(value: object) -> object:
    """A filter form's "Any" arrives as an empty value: no filter."""
    return None if value in ("", None) else value


def _blank_or_digits(value: object) -> object:
    return digits(_blank_is_none(value))


# A filter whose "Any" is an empty value: `Annotated[Literal[...] | None, Blank, Query()]`.
Blank = BeforeValidator(_blank_is_none)


# The words a list is searched by (a name, a clinic number, a date of birth).
Search = Annotated[str, AfterValidator(one_line), Query(max_length=100)]
# An optional filter by a row's id (a clinician on the worklist and the registry).
IdFilter = Annotated[Annotated[int, Field(ge=1, le=MAX_ROW_ID)] | None,
                     BeforeValidator(_blank_or_digits), Query()]

"""The store's two failures: bad input (with field paths a form can show) and a missing object."""

from __future__ import annotations

from pydantic import ValidationError

from sijcare.model import loading


class RecordError(ValueError):
    """Invalid input; `problems` holds `(field_path, message)` pairs, nothing was saved."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" if path else message
                                   for path, message in problems))


class NotFound(LookupError):
    """The episode, patient or clinic asked for does not exist (or is not visible)."""


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """Readable `(path, message)` pairs, worded as for a record rather than a case file, that
    never repeat the value sent (an error answer must not echo input)."""
    return loading.problems_of(error, noun="this record", echo=False)

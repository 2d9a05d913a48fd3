"""The store's two failures: bad input (with field paths a form can show) and a missing object."""

from __future__ import annotations

from pydantic import ValidationError

from sijcare.model.loading import field_path

# Parts pydantic adds to a location for union members and dict keys; they name no field.
_NOT_FIELDS = frozenset({"int", "float", "str", "bool", "[key]"})


class RecordError(ValueError):
    """Invalid input; `problems` holds `(field_path, message)` pairs, nothing was saved."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" if path else message
                                   for path, message in problems))


class NotFound(LookupError):
    """The episode, patient or clinic asked for does not exist (or is not visible)."""


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """Readable `(path, message)` pairs; a union's per-member errors collapse into one."""
    found: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if part not in _NOT_FIELDS)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a field of this record (check the spelling)"
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] == "literal_error":
            message = f"got {item['input']!r}; {message[0].lower()}{message[1:]}"
        found[field_path(loc)] = message
    return list(found.items())

"""Forms as data: each field names its path in the record, so errors find it.

A field's input `name` is the dotted path of the value in the record data handed to the
store (`provocation.thigh_thrust`), which is also the path the store's `RecordError`
reports; an error therefore lands next to the input that caused it. Labels and how-to text
come from the knowledge base, so the form says exactly what the engine will count.

Every field can be left "not recorded": an empty input becomes an absent value, never a
`false` or an empty list (unknown is not negative).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sijcare.instruments import odi, pgic

FieldKind = Literal["date", "number", "text", "password", "choice", "radio", "tristate",
                    "multi"]
Choices = tuple[tuple[str, str], ...]

NONE_OF_THESE = "__none__"  # the "asked, none present" box of a checkbox group
PGIC: Choices = tuple((str(value), f"{value} {words}") for value, words in pgic.ANSWERS.items())
ODI_SECTIONS = odi.SECTIONS


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: FieldKind
    choices: Choices = ()
    hint: str = ""
    low: float | None = None
    high: float | None = None
    none_label: str = "None of these (asked)"
    whole: bool = False  # the choices' values stand for whole numbers (PGIC 1-7, an id)
    asked_when: tuple[str, str] = ()  # (input name, value): asked only after that answer

    @property
    def input_id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class TableRow:
    """One row of a table group (an examination test): its label and its inputs' names."""

    label: str
    hint: str
    names: tuple[str | None, ...]  # one per column; None where the row has no such input


@dataclass(frozen=True)
class Group:
    """One fieldset with its legend; with `columns`, its fields are laid out as a table."""

    legend: str
    fields: tuple[FormField, ...]
    hint: str = ""
    columns: tuple[str, ...] = ()
    rows: tuple[TableRow, ...] = ()
    section: str = ""  # the part of a combined form (first visit) this group belongs to

    def prefixed(self, prefix: str, section: str) -> Group:
        return replace(self, fields=tuple(
            replace(f, name=prefix + f.name, asked_when=(
                (prefix + f.asked_when[0], f.asked_when[1]) if f.asked_when else ()))
            for f in self.fields),
                       rows=tuple(replace(r, names=tuple(n and prefix + n for n in r.names))
                                  for r in self.rows), section=section)


@dataclass(frozen=True)
class RecordForm:
    kind: str
    title: str
    groups: tuple[Group, ...]
    intro: str = ""
    fills: tuple[tuple[str, str], ...] = ()  # (value, button text) of the "fill all" helpers

    def fields(self) -> list[FormField]:
        return [f for g in self.groups for f in g.fields]

    def without(self, names: set[str]) -> RecordForm:
        """The form less some questions (pregnancy for a male patient)."""
        return replace(self, groups=tuple(
            replace(g, fields=tuple(f for f in g.fields if f.name not in names))
            for g in self.groups))

    def choosing(self, name: str, choices: Choices, hint: str | None = None) -> RecordForm:
        """The form with field `name` asked as a choice among `choices` (the episode's own)."""
        return replace(self, groups=tuple(
            replace(g, fields=tuple(replace(f, choices=choices, hint=hint or f.hint)
                                    if f.name == name else f for f in g.fields))
            for g in self.groups))

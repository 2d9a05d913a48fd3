"""k-anonymity for the research export: nobody can be singled out by what is known about them.

Someone who knows a patient's clinic, sex, age and the kind and side of their first procedure
(a neighbour's "RFA on the right last spring") must find at least `K` - 1 others with the same
values in the export. Each patient's values are coarsened one step at a time along `LADDER`,
only as far as needed: a patient keeps the finest step at which at least `K` of the patients
still being placed share their values. A smaller group at a step takes in whole groups placed
at finer steps that read the same at this one (smallest first; every step only coarsens the
one before, so a finer group falls whole into one coarser group), rather than going on to
lose more of its own values; those who share nothing even with every field suppressed are
left out of the export.

The order of the ladder keeps the registry's figures: they are per procedure kind and can be
filtered by side, never by sex, age or clinic, so those are coarsened first (age bands of 5,
then 10, then 20 years; sex; age; clinic), then the side and last the kind. A published
class may join patients placed at different steps (a recorded "no side" reads like a
suppressed one); that only makes it larger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

K = 5  # every published combination is shared by at least this many patients


@dataclass(frozen=True)
class Step:
    """One rung: the width of the age bands (None: age suppressed) and what is kept."""

    words: str  # what this rung does, for the data dictionary
    age_years: int | None
    sex: bool = True
    clinic: bool = True
    side: bool = True
    kind: bool = True


LADDER = (
    Step("as recorded, ages in 5-year bands", 5),
    Step("ages in 10-year bands", 10),
    Step("ages in 20-year bands", 20),
    Step("sex suppressed", 20, sex=False),
    Step("age suppressed", None, sex=False),
    Step("clinic suppressed", None, sex=False, clinic=False),
    Step("side suppressed", None, sex=False, clinic=False, side=False),
    Step("procedure kind suppressed", None, sex=False, clinic=False, side=False, kind=False),
)


@dataclass(frozen=True)
class Person:
    """What someone might know of a patient: never generalised are whether the patient is
    synthetic (real and made-up patients are never mixed) and whether they had a procedure
    (the export shows their procedure rows either way)."""

    id: int
    synthetic: bool
    clinic: str
    sex: str
    age: int  # in whole years at the first visit
    kind: str | None  # of the first procedure (None: no procedure)
    side: str | None  # of the first procedure (None: not recorded, or no procedure)


def age_band(age: int, years: int | None) -> str | None:
    """`40-44` (5 years), `40-49`, `40-59`; everyone over 89 in `90+`; None: suppressed."""
    if years is None:
        return None
    if age > 89:
        return "90+"
    low = age - age % years
    return f"{low}-{min(low + years - 1, 89)}"


@dataclass(frozen=True)
class Published:
    """A patient's values as the export shows them (None: suppressed)."""

    clinic: str | None
    sex: str | None
    age_group: str | None
    kind: str | None
    side: str | None
    step: Step

    @staticmethod
    def of(person: Person, step: Step) -> Published:
        return Published(person.clinic if step.clinic else None,
                         person.sex if step.sex else None, age_band(person.age, step.age_years),
                         person.kind if step.kind else None,
                         person.side if step.side else None, step)

    def key(self, person: Person) -> tuple[object, ...]:
        return (person.synthetic, person.kind is not None, self.clinic, self.sex,
                self.age_group, self.kind, self.side)


def _key(person: Person, step: Step) -> tuple[object, ...]:
    return Published.of(person, step).key(person)


Groups = dict[tuple[int, tuple[object, ...]], list[Person]]  # (step, values): its patients


def _place(waiting: list[Person], placed: Groups, k: int, *, absorb: bool) -> list[Person]:
    """One pass down the ladder: a group of at least `k` is placed at the step where it forms
    (with `absorb`, a smaller one first takes in whole finer groups that read the same at this
    step, smallest first); returns who is still waiting after the last step."""
    for index, step in enumerate(LADDER):
        groups: dict[tuple[object, ...], list[Person]] = defaultdict(list)
        for person in waiting:
            groups[_key(person, step)].append(person)
        waiting = []
        for key, members in groups.items():
            if len(members) < k and absorb:
                finer = sorted((group for group in placed if group[0] < index
                                and _key(placed[group][0], step) == key),
                               key=lambda group: len(placed[group]))
                taken: list[Person] = []
                while finer and len(members) + len(taken) < k:
                    taken += placed[finer[0]]
                    del placed[finer.pop(0)]
                members = members + taken
            if len(members) < k:
                waiting.extend(members)
            else:
                placed[index, key] = members
    return waiting


def generalise(people: Iterable[Person], k: int = K) -> dict[int, Published]:
    """Each patient's published values by id; a patient missing from the answer is left out.

    The first pass lets small groups go coarser among themselves, which keeps most patients
    at fine steps; only those it leaves over take in finer groups, in a second pass."""
    placed: Groups = {}
    _place(_place(list(people), placed, k, absorb=False), placed, k, absorb=True)
    return {person.id: Published.of(person, LADDER[index])
            for (index, _), members in placed.items() for person in members}

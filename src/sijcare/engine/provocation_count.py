"""One way to count provocation tests, wherever a count is shown: the timeline's examination,
the Laslett cluster, a payer's listed tests, the visit note and the report. Each says how
many were positive of those performed, and how many were not performed apart, so that counts
of different sets of tests on one page read alike and none passes an untested one off as
negative."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProvocationCount:
    positive: int
    performed: int
    not_performed: int

    @property
    def words(self) -> str:
        """E.g. "3 positive of 4 performed, 2 not performed"."""
        said = f"{self.positive} positive of {self.performed} performed"
        return f"{said}, {self.not_performed} not performed" if self.not_performed else said


def count_provocation(results: Iterable[str | None]) -> ProvocationCount:
    """The count of a set of tests, each "positive", "negative" or None (not performed)."""
    results = list(results)
    done = [result for result in results if result is not None]
    return ProvocationCount(
        sum(result == "positive" for result in done), len(done), len(results) - len(done)
    )

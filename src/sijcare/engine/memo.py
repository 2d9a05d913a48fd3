"""Shared findings: a finding built from equal inputs is the one immutable value.

Engine builders that depend only on a few hashable inputs are wrapped with `shared`, so
re-assessing an unchanged case (every page view) or cases alike in a part (the same cluster
results, the same verdicts) reuses the frozen result instead of rebuilding it. Results are
frozen models and must never be mutated. `clear()` empties every cache (benchmarks, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache, partial, update_wrapper
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_SHARED: list[_PerKnowledge] = []
_NO_KNOWLEDGE = object()  # matches no knowledge base, so the first call builds a cache


class _PerKnowledge:
    """One builder's shared results for the knowledge base it was last called with.

    The knowledge base is kept out of the cache key: keys made only of plain values (str, int,
    date, None and tuples of them) are untracked by the garbage collector, which then never
    walks the cache's keys however many it holds. A call with another knowledge base starts
    afresh, so results never cross knowledge versions.
    """

    def __init__(self, build: Callable[..., Any], maxsize: int) -> None:
        self.build, self.maxsize = build, maxsize
        self.clear()

    def clear(self) -> None:
        self.current: tuple[object, Callable[..., Any] | None] = (_NO_KNOWLEDGE, None)

    def __call__(self, kb: object, *args: Hashable) -> Any:
        current = self.current  # read once: a concurrent swap cannot mix two knowledge bases
        if current[0] is not kb:
            current = (kb, lru_cache(maxsize=self.maxsize)(partial(self.build, kb)))
            self.current = current
        return current[1](*args)


def shared(maxsize: int) -> Callable[[F], F]:
    """Share a builder's results; its first argument is the knowledge base, the rest plain."""
    def wrap(build: F) -> F:
        cached = _PerKnowledge(build, maxsize)
        update_wrapper(cached, build)
        _SHARED.append(cached)
        return cached  # type: ignore[return-value]
    return wrap


def clear() -> None:
    """Forget every shared finding."""
    for cache in _SHARED:
        cache.clear()


class Shelf(dict):
    """Shared findings of one compiled rule, keyed by plain values (str, int, None, tuples).

    An `lru_cache` keys on its arguments, and a key holding an object stays tracked by the
    garbage collector for as long as the cache lives; a plain key is untracked, so a long-lived
    shelf costs the collector only its values. A full shelf is emptied: rebuilding is cheap and
    always correct. A shelf lives on the compiled rule, so `clear()` drops it with the rule.
    """

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def keep(self, key: Hashable, value: Any) -> Any:
        if len(self) >= self.maxsize:
            self.clear()
        self[key] = value
        return value

"""Shared findings: a finding built from equal inputs is the one immutable value.

Engine builders that depend only on a few hashable inputs are wrapped with `shared`, so
re-assessing an unchanged case (every page view) or cases alike in a part (the same cluster
results, the same verdicts) reuses the frozen result instead of rebuilding it. Results are
frozen models and must never be mutated. `clear()` empties every cache (benchmarks, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_CACHES: list[Any] = []


def shared(maxsize: int) -> Callable[[F], F]:
    def wrap(build: F) -> F:
        cached = lru_cache(maxsize=maxsize)(build)
        _CACHES.append(cached)
        return cached  # type: ignore[return-value]
    return wrap


def clear() -> None:
    """Forget every shared finding."""
    for cache in _CACHES:
        cache.cache_clear()


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

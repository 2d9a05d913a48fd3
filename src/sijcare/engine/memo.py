"""Shared findings: a finding built from equal inputs is the one immutable value.

Engine builders that depend only on a few hashable inputs are wrapped with `shared`, so
re-assessing an unchanged case (every page view) or cases alike in a part (the same cluster
results, the same verdicts) reuses the frozen result instead of rebuilding it. Results are
frozen models and must never be mutated. `clear()` empties every cache (benchmarks, tests).
"""

from __future__ import annotations

from collections.abc import Callable
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

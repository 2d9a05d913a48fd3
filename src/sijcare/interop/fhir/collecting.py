"""Garbage collection for work done in batches (a bulk export).

Left to itself, Python's collector runs full passes over every live object whenever enough
new objects have survived a while: while a batch's rows and resources are held, that is
several full passes per batch, most of a bulk export's time. Here the automatic passes are
paused for the whole job and the young objects collected once after each batch, when the
batch has let them go: its reference cycles (ORM rows) are freed there, so memory stays as
flat as before, and the long-lived objects are not walked again and again.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def collected_per_batch() -> Iterator[Callable[[], None]]:
    """Gives the function to call after each batch; the collector is as it was afterwards
    (a job inside another leaves it paused for the outer one)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(1)
    finally:
        if enabled:
            gc.enable()


def collected_after(work: Callable[P, T]) -> Callable[P, T]:
    """`work` followed by a collection of the newest objects, for a step inside a batch that
    leaves much cyclic garbage (a signed assessment's PDF: its layout tree, some 2 MB), which
    would otherwise be held until the batch ends."""
    def collected(*args: P.args, **kwargs: P.kwargs) -> T:
        found = work(*args, **kwargs)
        gc.collect(0)
        return found
    return collected

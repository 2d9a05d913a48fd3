"""The bulk export pauses the garbage collector: what a batch or a PDF leaves in reference
cycles is still freed when it ends, and the collector is as it was afterwards."""

from __future__ import annotations

import gc
import weakref

from sijcare.interop.fhir.collecting import collected_after, collected_per_batch


class Node:
    """Something a cycle can hold and a weak reference can watch."""

    def __init__(self) -> None:
        self.itself = self


def _cycle() -> weakref.ref[Node]:
    """A reference cycle nothing else holds: only the collector frees it."""
    return weakref.ref(Node())


def test_a_batch_s_cycles_are_freed_when_it_is_done() -> None:
    with collected_per_batch() as done:
        assert not gc.isenabled()
        left = _cycle()
        assert left() is not None  # paused: nothing collects it on its own
        done()
        assert left() is None
    assert gc.isenabled()


def test_a_pdf_s_cycles_are_freed_as_soon_as_it_is_made() -> None:
    made: list[weakref.ref[Node]] = []
    render = collected_after(lambda: made.append(_cycle()) or b"%PDF-")
    with collected_per_batch():
        assert render() == b"%PDF-" and made[0]() is None


def test_the_collector_stays_paused_for_an_outer_job() -> None:
    gc.disable()
    try:
        with collected_per_batch():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

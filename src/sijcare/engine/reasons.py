"""Building `Reason`s: one place decides how a rule explains itself."""

from __future__ import annotations

from collections.abc import Sequence

from sijcare.model.assessment import Reason


def because(rule: str, text: str, sources: Sequence[str], provisional: bool = False,
            **inputs: object) -> Reason:
    """A reason for `rule`, with the inputs it read, so a clinician can redo the step."""
    return Reason(rule=rule, text=text, sources=sources, inputs=inputs,
                  provisional=provisional)

"""Imported, not reviewed: what of an unreviewed record the case counts already.

The safety rule (issue 23): an imported fact that can stop an option (an allergy, an
anticoagulant, pregnancy, a red flag such as cancer history, an earlier fusion or steroid
injection) counts for the safety stops at once, reviewed or not; a fact that could open an
option (a block's relief, a negative screen, no anticoagulant, an outcome) counts only once
a clinician accepts it. So a record no one reviewed gives the case only its stopping part,
and since a stopping record can still open (an allergy list names what the patient is not
allergic to; an earlier treatment is also a rung tried), the case also carries itself without
the unreviewed records, and the engine reads every check at its worse on the two.
"""

from __future__ import annotations

from typing import Any

from sijcare.store.forms import IntakeForm, MedicationsForm


def stopping_facts(kind: str, form: Any) -> list[str]:
    """The facts of the record that can stop an option, named (`allergy:latex`)."""
    if kind == "medications":
        return ([f"allergy:{a}" for a in form.allergies or []]
                + (["anticoagulant"] if form.anticoagulant else []))
    if kind == "intake":
        return ([f"red_flag:{f}" for f in form.red_flags or []]
                + (["pregnant"] if form.pregnant else []))
    if kind == "procedure":  # every treatment can stop its repeat (an interval, a series
        return [f"procedure:{form.kind}"]  # limit, a second fusion, steroids too often)
    return []


def with_stops(kind: str, reviewed: Any, pending: list[Any]) -> Any:
    """The latest reviewed intake or medications form with the stopping facts of the
    unreviewed ones laid over it (a list joined, a yes kept): never fewer stops."""
    if not any(stopping_facts(kind, form) for form in pending):
        return reviewed
    if kind == "medications":
        base = reviewed or MedicationsForm.model_construct(
            anticoagulant=None, anticoagulant_plan=None, allergies=None)
        update: dict[str, Any] = {
            "allergies": _joined(base.allergies, *(f.allergies for f in pending))}
        if not base.anticoagulant and any(f.anticoagulant for f in pending):
            update |= {"anticoagulant": True, "anticoagulant_plan": None}  # plan unknown
        return base.model_copy(update=update)
    base = reviewed or IntakeForm()
    flags = _joined(base.red_flags, *(f.red_flags for f in pending))
    pregnant = True if any(f.pregnant for f in pending) else base.pregnant
    return base.model_copy(update={"red_flags": flags, "pregnant": pregnant})


def _joined(first: list[str] | None, *more: list[str] | None) -> list[str] | None:
    lists = [found for found in (first, *more) if found]
    if not lists:
        return first
    return list(dict.fromkeys(code for found in lists for code in found))

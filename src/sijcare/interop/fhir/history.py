"""The history taken at intake: the pain score, the red-flag screen and each red flag present.

The screen is one Observation whatever it found, so "asked, none present" (false) stays
distinct from "never asked" (no Observation): unknown is not negative. Each red flag present
is also a Condition on the problem list, where a hospital looks first.
"""

from __future__ import annotations

from sijcare.interop.fhir.base import (
    Resource,
    category,
    concept,
    condition_status,
    fhir_id,
    meta,
    pruned,
)
from sijcare.interop.fhir.records import Recorded


def intake_resources(intake: Recorded, current: bool) -> list[Resource]:
    """Every intake's pain score and screen (dated history); the red flags of the `current`
    (latest) intake alone as Conditions, since the case reads the latest intake whole."""
    form = intake.form
    found = []
    if form.pain_nrs is not None:
        found.append(pain_score(intake, fhir_id("intake", intake.id, "nrs"), form.pain_nrs,
                                intake.recorded_on.isoformat()))
    if form.red_flags is not None:
        found.append(red_flag_screen(intake, form.red_flags))
        found += [red_flag(intake, flag) for flag in form.red_flags if current]
    return found


def pain_score(recorded: Recorded, resource_id: str, value: float, day: str,
               derived_from: list[dict[str, str]] | None = None) -> Resource:
    """A 0-10 pain rating (LOINC 72514-3), asked at intake or answered on a questionnaire."""
    found: Resource = {
        "resourceType": "Observation", "id": resource_id, "meta": meta("assessment"),
        "status": recorded.status("final"), "category": [category("survey")],
        "code": concept("nrs"), "subject": recorded.subject, "effectiveDateTime": day,
        "valueInteger" if float(value).is_integer() else "valueDecimal":
            int(value) if float(value).is_integer() else value,
    }
    if derived_from:
        found["derivedFrom"] = derived_from
    return found


def red_flag_screen(intake: Recorded, flags: list[str]) -> Resource:
    return pruned({
        "resourceType": "Observation", "id": fhir_id("intake", intake.id, "red-flags"),
        "meta": meta("clinical"), "status": intake.status("final"),
        "category": [category("exam")], "code": concept("red_flags"),
        "subject": intake.subject, "effectiveDateTime": intake.recorded_on.isoformat(),
        "valueBoolean": bool(flags),
        "component": [{"code": concept(flag), "valueBoolean": True} for flag in flags],
    })


def red_flag(intake: Recorded, flag: str) -> Resource:
    return {
        "resourceType": "Condition", "id": fhir_id("intake", intake.id, flag),
        "meta": meta("problem"),
        **condition_status(intake.voided, "active", "confirmed"),
        "category": [category("problem_list_item")], "code": concept(flag),
        "subject": intake.subject, "recordedDate": intake.recorded_on.isoformat(),
    }

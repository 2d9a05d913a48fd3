"""The history and examination items besides the pain score, the red flags and the
provocation tests (the pain map, where the pain reaches, what aggravates or relieves it, how
it began, tenderness, the straight-leg raise...): one Observation per record, a component per
item, each coded by sijcare's CodeSystem and any standard code `fhir_codes.yaml` gives it.

Both ways live here, so what is written is what is read: a group (the pain map, tenderness)
is a component per part; a list is a component per entry, and an empty list (asked, none
found) one component valued false; an item not recorded has no component, so unknown stays
distinct from no.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sijcare.interop.fhir.base import Resource, category, concept, fhir_id, meta, pruned
from sijcare.interop.fhir.records import Recorded
from sijcare.knowledge.terminology import load_terminology
from sijcare.model.case import PainAreas, Tenderness

# The record kind -> the Observation's code and the form's items it carries.
ITEMS = {
    "intake": ("history", ("pain_duration_months", "pain_areas", "below_l5", "below_knee",
                           "fortin_finger", "aggravating", "relieving", "onset", "spa_features",
                           "generalized_pain_disorder")),
    "exam": ("exam", ("tenderness", "straight_leg_raise", "neuro_deficit", "hip_rotation_pain")),
}
GROUPS = {part: group for group, model in (("pain_areas", PainAreas), ("tenderness", Tenderness))
          for part in model.model_fields}
LISTS = ("aggravating", "relieving", "spa_features")
UNITS = {"pain_areas": {"unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
         "pain_duration_months": {"unit": "mo", "system": "http://unitsofmeasure.org",
                                  "code": "mo"}}


def findings(recorded: Recorded, kind: str) -> list[Resource]:
    """The record's items as one Observation, none if it holds none of them."""
    code, names = ITEMS[kind]
    components = [part for name in names for part in _components(name, getattr(
        recorded.form, name))]
    if not components:
        return []
    return [pruned({
        "resourceType": "Observation", "id": fhir_id(kind, recorded.id, "findings"),
        "meta": meta("clinical"), "status": recorded.status("final"),
        "category": [category("exam")], "code": concept(code), "subject": recorded.subject,
        "effectiveDateTime": recorded.recorded_on.isoformat(), "component": components,
    })]


def _components(name: str, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, BaseModel):
        return [_component(part, found, UNITS.get(name))
                for part, found in value.model_dump(exclude_none=True).items()]
    if isinstance(value, list):
        return ([_component(name, entry) for entry in value]
                or [{"code": concept(name), "valueBoolean": False}])
    return [_component(name, value, UNITS.get(name))]


def _component(name: str, value: Any, unit: dict[str, str] | None = None) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"code": concept(name), "valueBoolean": value}
    if isinstance(value, int | float):
        return {"code": concept(name), "valueQuantity": {"value": value, **(unit or {})}}
    return {"code": concept(name), "valueCodeableConcept": concept(str(value))}


def own_code(holder: object) -> str | None:
    """The sijcare code of a CodeableConcept (the vocabulary code it was written from)."""
    system = load_terminology().codesystem
    codings = holder.get("coding", []) if isinstance(holder, dict) else []
    return next((str(c.get("code")) for c in codings
                 if isinstance(c, dict) and c.get("system") == system), None)


def read_findings(resource: dict[str, Any], kind: str) -> dict[str, Any]:
    """The items of a findings Observation as the record's data (`findings` read back)."""
    names = ITEMS[kind][1]
    data: dict[str, Any] = {}
    for part in resource.get("component") or []:
        name = own_code(part.get("code"))
        group = GROUPS.get(name or "")
        if group in names:
            data.setdefault(group, {})[name] = _value(part)
        elif name in LISTS and name in names:
            entries = data.setdefault(name, [])
            if part.get("valueBoolean") is not False:
                entries.append(_value(part))
        elif name in names:
            data[name] = _value(part)
    return data


def _value(part: dict[str, Any]) -> Any:
    if "valueBoolean" in part:
        return part["valueBoolean"]
    if isinstance(part.get("valueQuantity"), dict):
        value = part["valueQuantity"].get("value")
        return int(value) if isinstance(value, float) and value.is_integer() else value
    return own_code(part.get("valueCodeableConcept"))

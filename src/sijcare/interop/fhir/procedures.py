"""Blocks and treatments as US Core Procedures, with what they achieved as Observations.

A diagnostic block is coded by where it went (intra-articular: the SI-joint injection code,
lateral branch: the nerve block code); its relief is an Observation of sijcare's CodeSystem,
valued as the engine reads it (`engine.facts.relief_percent`), with the whole pain diary as
components, each rating's minutes after the block in an extension.
"""

from __future__ import annotations

from sijcare.engine.facts import relief_percent
from sijcare.interop.fhir.base import (
    Resource,
    canonical,
    category,
    concept,
    fhir_id,
    meta,
    pruned,
    reference,
)
from sijcare.interop.fhir.records import Recorded
from sijcare.knowledge.terminology import load_terminology

PERCENT = {"unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}
WEEKS = {"unit": "wk", "system": "http://unitsofmeasure.org", "code": "wk"}
# sijcare's two extensions: what the engine reads and no R4 element holds.
MINUTES_AFTER_BLOCK = "StructureDefinition/minutes-after-block"
IMAGE_GUIDANCE = "StructureDefinition/image-guidance"  # unguided blocks are never counted


def procedure(recorded: Recorded, resource_id: str, code: dict, day: str, side: str | None,
              guidance: str | None) -> Resource:
    return pruned({
        "resourceType": "Procedure", "id": resource_id, "meta": meta("procedure"),
        "extension": [{"url": canonical(IMAGE_GUIDANCE),
                       "valueCodeableConcept": concept(guidance)}] if guidance else None,
        "status": recorded.status("completed"), "code": code, "subject": recorded.subject,
        "performedDateTime": day,
        "bodySite": [concept(side)] if side else None,
    })


def block_resources(block: Recorded) -> list[Resource]:
    form = block.form
    code = concept("block", *load_terminology().codings(form.target or ""))
    day = form.date.isoformat()
    performed = procedure(block, fhir_id("block", block.id), code, day, form.side,
                          form.guidance)
    return [performed, block_relief(block, day)]


def block_relief(block: Recorded, day: str) -> Resource:
    diary = [{"extension": [{"url": canonical(MINUTES_AFTER_BLOCK),
                             "valueInteger": entry.minutes}],
              "code": concept("nrs"), "valueInteger" if float(entry.pain).is_integer()
              else "valueDecimal": int(entry.pain) if float(entry.pain).is_integer()
              else entry.pain}
             for entry in block.form.diary]
    return {
        "resourceType": "Observation", "id": fhir_id("block", block.id, "relief"),
        "meta": meta("clinical"), "status": block.status("final"),
        "category": [category("procedure")], "code": concept("block_relief"),
        "subject": block.subject, "effectiveDateTime": day,
        "partOf": [reference("Procedure", fhir_id("block", block.id))],
        "valueQuantity": {"value": relief_percent(block.form.engine()), **PERCENT},
        "component": diary,
    }


def treatment_resources(treatment: Recorded) -> list[Resource]:
    form = treatment.form
    return [procedure(treatment, fhir_id("procedure", treatment.id), concept(form.kind),
                      form.date.isoformat(), form.side, form.guidance)]


def outcome_resources(outcome: Recorded) -> list[Resource]:
    """A follow-up of a procedure: its relief, how long it lasted, PGIC."""
    form = outcome.form
    parts = [("relief_percent", form.relief, PERCENT), ("relief_weeks", form.relief_weeks, WEEKS)]
    components = [{"code": concept(code), "valueQuantity": {"value": value, **unit}}
                  for code, value, unit in parts if value is not None]
    if form.relief_ongoing is not None:
        components.append({"code": concept("relief_ongoing"), "valueBoolean": form.relief_ongoing})
    if form.pgic is not None:
        components.append({"code": concept("pgic"), "valueInteger": form.pgic})
    return [pruned({
        "resourceType": "Observation", "id": fhir_id("outcome", outcome.id),
        "meta": meta("clinical"), "status": outcome.status("final"),
        "category": [category("procedure")], "code": concept("procedure_outcome"),
        "subject": outcome.subject, "effectiveDateTime": form.date.isoformat(),
        "partOf": [reference("Procedure", fhir_id("procedure", form.procedure_id))],
        "component": components,
    })]

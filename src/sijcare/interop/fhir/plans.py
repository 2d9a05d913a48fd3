"""The episode as a problem and a plan: SI-joint pain on the problem list, and from the latest
signed assessment the pathway stage as a CarePlan (with its narrative) and the next step as a
ServiceRequest. Their statuses follow the episode: open is active, closed is finished.
"""

from __future__ import annotations

import html

from sijcare.interop.fhir.base import (
    Resource,
    category,
    concept,
    condition_status,
    fhir_id,
    instant,
    meta,
    pruned,
    reference,
    user_reference,
)
from sijcare.interop.fhir.signatures import Signature, verification
from sijcare.knowledge import load_knowledge
from sijcare.labels import label, words
from sijcare.steps import NEXT_OPTIONS
from sijcare.stops import status_words
from sijcare.store.models import Episode


def problem(episode: Episode, latest: Signature | None, onset: str | None,
            side: str | None) -> Resource:
    closed = episode.closed_on is not None
    return pruned({
        "resourceType": "Condition", "id": fhir_id("episode", episode.id),
        "meta": meta("problem"),
        **condition_status(False, "inactive" if closed else "active",
                           verification(latest.assessment) if latest else "provisional"),
        "category": [category("problem_list_item")], "code": concept("sij_pain"),
        "bodySite": [concept(side)] if side else None,
        "subject": reference("Patient", str(episode.patient_id)),
        "onsetDateTime": onset, "recordedDate": episode.opened_on.isoformat(),
        "abatementDateTime": episode.closed_on.isoformat() if closed else None,
        "note": [{"text": episode.complaint}],
    })


def narrative(latest: Signature) -> str:
    """The stage, what it means, and why, as the signed assessment gave them."""
    assessment = latest.assessment
    stage = next(s for s in load_knowledge().pathway.stages if s.id == assessment.stage)
    why = [words(r.text) for r in assessment.stage_reasons]
    paragraphs = [f"<p><b>{html.escape(label(stage.id))}</b>: {html.escape(stage.text)}</p>",
                  *(f"<p>{html.escape(text)}</p>" for text in why)]
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{"".join(paragraphs)}</div>'


def care_plan(episode: Episode, latest: Signature) -> Resource:
    closed = episode.closed_on is not None
    return {
        "resourceType": "CarePlan", "id": fhir_id("episode", episode.id),
        "meta": meta("careplan"), "text": {"status": "generated", "div": narrative(latest)},
        "status": "completed" if closed else "active", "intent": "plan",
        "category": [category("assess_plan")], "title": label(latest.assessment.stage),
        "subject": reference("Patient", str(episode.patient_id)),
        "period": pruned({"start": episode.opened_on.isoformat(),
                          "end": episode.closed_on.isoformat() if closed else None}),
        "created": instant(latest.row.signed_at), "author": user_reference(latest.signer),
        "addresses": [reference("Condition", fhir_id("episode", episode.id))],
        "activity": [{"reference": reference("ServiceRequest", fhir_id("episode", episode.id))}],
    }


def next_step(episode: Episode, latest: Signature) -> Resource:
    """The stage's step; where it leads to procedures, the options are named in the note."""
    assessment = latest.assessment
    options = NEXT_OPTIONS.get(assessment.stage, ())
    closed = episode.closed_on is not None
    notes = [f"{label(o)}: {status_words(assessment.eligibility[o])}" for o in options
             if o in assessment.eligibility]  # a stop says so, with what stops it
    return pruned({
        "resourceType": "ServiceRequest", "id": fhir_id("episode", episode.id),
        "meta": meta("request"), "status": "revoked" if closed else "active",
        "intent": "plan", "code": concept(assessment.stage),
        "subject": reference("Patient", str(episode.patient_id)),
        "authoredOn": instant(latest.row.signed_at), "requester": user_reference(latest.signer),
        "reasonReference": [reference("Condition", fhir_id("episode", episode.id))],
        "note": [{"text": n} for n in notes],
    })

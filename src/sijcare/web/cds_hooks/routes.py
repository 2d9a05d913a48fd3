"""`/cds-services`: discovery, the three hooks, and feedback on their cards.

A hook builds the `Case` from the EHR's resources through the importer's mapping, saving
nothing (`interop.fhir.ehr_case`: every fact counts, the EHR's record being the record), and
assesses it with the engine's `assess()` under the patient's policy (their payer's when
sijcare knows the patient by an identifier it gave them), as the episode page does. Nothing
the EHR sent is kept: each card leaves an audit entry (its uuid, rule and stop, the EHR's
user and patient id), and feedback is stored against it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from sijcare.engine import DEFAULT_POLICY, assess
from sijcare.interop.fhir.ehr_case import UnusableRecord, ehr_case
from sijcare.interop.fhir.matching import matching_patient_id
from sijcare.model.loading import describe
from sijcare.store import record_event
from sijcare.store.cds_hooks import CARD, add_feedback, card_issued
from sijcare.store.models import Patient
from sijcare.web.cds_hooks.bodies import Feedback, HookRequest
from sijcare.web.cds_hooks.calls import authenticated, spent, verified
from sijcare.web.cds_hooks.cards import Issued, option_cards, patient_view, unusable
from sijcare.web.cds_hooks.orders import ordered
from sijcare.web.cds_hooks.prefetch import Unavailable, gather, missing
from sijcare.web.cds_hooks.services import SERVICES, discovery
from sijcare.web.cds_hooks.tokens import Caller, Problem
from sijcare.web.deps import in_db
from sijcare.web.errors import CDS_HOOKS

PREFIX = CDS_HOOKS
router = APIRouter(prefix=PREFIX, include_in_schema=False)


async def _body(request: Request, model: type) -> Any:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as error:
        raise Problem(400, "; ".join(describe(error))) from None


def _service(service_id: str) -> dict[str, Any]:
    if service_id not in SERVICES:
        raise Problem(404, f"No CDS service {service_id[:60]!r}.")
    return SERVICES[service_id]


@router.get("", name="cds.discovery")
async def list_services(request: Request) -> JSONResponse:
    await authenticated(request)
    return JSONResponse(discovery())


def _policy(db, resources: list[dict[str, Any]]) -> str:
    """The payer's policy of the patient sijcare knows by this identifier, else the default."""
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    known = matching_patient_id(db, patient.get("identifier") or [])
    payer = db.scalar(select(Patient.payer).where(Patient.id == known)) if known else None
    return payer or DEFAULT_POLICY


def _options(hook: HookRequest) -> dict[str, list[str]]:
    """The options an order hook's draft orders ask for, with the orders (none for
    patient-view)."""
    if hook.hook == "patient-view":
        return {}
    return ordered(hook.context.draftOrders,
                   hook.context.selections if hook.hook == "order-select" else None)


def _cards(hook: HookRequest, resources: list[dict[str, Any]], policy: str,
           public_url: str) -> list[Issued]:
    try:
        case = ehr_case(resources, dt.date.today(), hook.context.patientId)
    except UnusableRecord as error:
        return [unusable(public_url, error.problems)]
    except ValidationError as error:
        return [unusable(public_url, describe(error))]
    except ValueError as error:  # a day before the birth date
        return [unusable(public_url, [str(error)])]
    assessment = assess(case, policy=policy)
    if hook.hook == "patient-view":
        return patient_view(public_url, assessment, case)
    return [i for option, orders in _options(hook).items()
            for i in option_cards(public_url, assessment, option, orders)]


def _audit(db, service_id: str, caller: Caller, hook: HookRequest, issued: list[Issued]) -> None:
    """An entry per card (which feedback is filed against), or one for a call without."""
    common = {"service": service_id, "iss": caller.iss, "hookInstance": hook.hookInstance,
              "patient": hook.context.patientId, "user": hook.context.userId}
    if not issued:
        record_event(db, None, "cds_hook", "cds_service", service_id, None,
                     {**common, "cards": 0})
    for i in issued:
        record_event(db, None, "cds_card", CARD, i.card["uuid"], None,
                     {**common, "rule": i.rule, "stop": i.stop,
                      "indicator": i.card["indicator"]})


@router.post("/{service_id}", name="cds.service")
async def call_service(request: Request, service_id: str) -> JSONResponse:
    caller = await verified(request)
    service = _service(service_id)
    hook: HookRequest = await _body(request, HookRequest)
    if hook.hook != service["hook"]:
        raise Problem(400, f"hook: this service answers {service['hook']}, "
                                 f"not {hook.hook[:40]!r}")
    if hook.hook != "patient-view" and not _options(hook):
        await spent(request, caller, lambda db: _audit(db, service_id, caller, hook, []))
        return JSONResponse({"cards": []})  # no SI-joint order: nothing to read or say
    fetching = bool(missing(hook.prefetch))
    if fetching:  # the jti is spent before any request goes out with the EHR's token
        await spent(request, caller, lambda db: None)
    try:
        resources = await run_in_threadpool(gather, hook.prefetch, hook.fhirServer,
                                            hook.fhirAuthorization, hook.context.patientId)
    except Unavailable:
        raise Problem(412, "The patient's data was neither prefetched nor fetchable "
                           "from fhirServer.") from None
    policy = await in_db(request, lambda db: _policy(db, resources))
    public_url = request.app.state.settings.public_url
    issued = await run_in_threadpool(_cards, hook, resources, policy, public_url)

    def audit(db) -> None:
        _audit(db, service_id, caller, hook, issued)
    # otherwise the jti is spent with the audit entries, in one commit: a replay sent
    # meanwhile gets its 401 there, and its cards are never sent
    await (in_db(request, audit) if fetching else spent(request, caller, audit))
    return JSONResponse({"cards": [i.card for i in issued]})


def _file(db, service_id: str, caller: Caller, feedback: Feedback) -> None:
    for number, item in enumerate(feedback.feedback):
        issued = card_issued(db, item.card)
        if issued is None or issued.get("service") != service_id:
            raise Problem(400, f"feedback[{number}].card: {item.card[:100]!r} is not a "
                                     "card this service issued")
        data = item.model_dump(mode="python", exclude_none=True)
        moment = item.outcomeTimestamp
        data["outcomeTimestamp"] = (moment.astimezone(dt.UTC).replace(tzinfo=None)
                                    if moment.tzinfo else moment)
        row = add_feedback(db, service_id, caller.iss, data, issued)
        record_event(db, None, "cds_feedback", CARD, item.card, None,
                     {"service": service_id, "iss": caller.iss, "outcome": item.outcome,
                      "reason": row.reason_code, "feedback_id": row.id})


@router.post("/{service_id}/feedback", name="cds.feedback")
async def feedback(request: Request, service_id: str) -> Response:
    caller = await verified(request)
    _service(service_id)
    sent: Feedback = await _body(request, Feedback)
    await spent(request, caller, lambda db: _file(db, service_id, caller, sent))
    return Response(status_code=200)

"""`/cds-services`: discovery, the three hooks, and feedback on their cards.

A hook builds the `Case` from the EHR's resources through the importer's mapping, saving
nothing (`interop.fhir.ehr_case`: every fact counts, the EHR's record being the record), and
assesses it with the engine's `assess()` under the patient's policy (their payer's when
sijcare knows the patient by an identifier it gave them), as the episode page does. Nothing
the EHR sent is kept: the call leaves one audit entry (each card's uuid, rule and stop, the
EHR's user and patient id), committed with its token's `jti`, and feedback is stored
against it. With everything prefetched a call takes two turns in worker threads, as few as
under load each waits its own turn for: the token checked and the cards made (the policy
read on a connection that waits for no writer), then the one commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine

from sijcare.engine import DEFAULT_POLICY, assess
from sijcare.interop.fhir.ehr_case import UnusableRecord, ehr_case
from sijcare.interop.fhir.matching import matching_payer
from sijcare.model.loading import describe
from sijcare.store import record_event
from sijcare.store.cds_hooks import CARD, add_feedback, card_issued, card_uuids, record_call
from sijcare.store.db import reading
from sijcare.web.cds_hooks.bodies import Feedback, HookRequest
from sijcare.web.cds_hooks.calls import authenticated, caller_of, spent, verified
from sijcare.web.cds_hooks.cards import Issued, option_cards, patient_view, unusable
from sijcare.web.cds_hooks.orders import ordered
from sijcare.web.cds_hooks.prefetch import Unavailable, gather, missing
from sijcare.web.cds_hooks.services import SERVICES, discovery
from sijcare.web.cds_hooks.tokens import Caller, Problem
from sijcare.web.deps import in_db
from sijcare.web.errors import CDS_HOOKS

PREFIX = CDS_HOOKS
router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _parsed(body: bytes, model: type) -> Any:
    try:
        return model.model_validate_json(body)
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


def _policy(engine: Engine, resources: list[dict[str, Any]]) -> str:
    """The payer's policy of the patient sijcare knows by this identifier, else the default;
    read without queueing behind the writes of other requests."""
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    if not patient.get("identifier"):
        return DEFAULT_POLICY
    with reading(engine) as connection:
        return matching_payer(connection, patient["identifier"]) or DEFAULT_POLICY


def _options(hook: HookRequest) -> dict[str, list[str]]:
    """The options an order hook's draft orders ask for, with the orders (none for
    patient-view)."""
    if hook.hook == "patient-view":
        return {}
    return ordered(hook.context.draftOrders,
                   hook.context.selections if hook.hook == "order-select" else None)


def _answer(engine: Engine, hook: HookRequest, public_url: str) -> list[Issued]:
    """The cards of the call: the resources gathered (fetched if not all prefetched), the
    policy read, the Case assessed."""
    resources = gather(hook.prefetch, hook.fhirServer, hook.fhirAuthorization,
                       hook.context.patientId)
    return _cards(hook, resources, _policy(engine, resources), public_url)


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


def _audit(db, service_id: str, caller: Caller, hook: HookRequest,
           issued: list[Issued]) -> list[dict[str, Any]]:
    """The call's audit entry; the cards numbered in it, as sent."""
    call, uuids = card_uuids(len(issued))
    record_call(db, call, {"service": service_id, "iss": caller.iss,
                           "hookInstance": hook.hookInstance,
                           "patient": hook.context.patientId, "user": hook.context.userId},
                [{"uuid": u, "rule": i.rule, "stop": i.stop, "indicator": i.card["indicator"]}
                 for u, i in zip(uuids, issued, strict=True)])
    return [{"uuid": u, **i.card} for u, i in zip(uuids, issued, strict=True)]


def _opened(request: Request, service_id: str, body: bytes
            ) -> tuple[Caller, HookRequest, list[Issued] | None]:
    """The caller, the hook, and its cards when nothing needs fetching (None when some data
    must be fetched with the EHR's token, which waits until its jti is spent)."""
    caller = caller_of(request)
    service = _service(service_id)
    hook: HookRequest = _parsed(body, HookRequest)
    if hook.hook != service["hook"]:
        raise Problem(400, f"hook: this service answers {service['hook']}, "
                                 f"not {hook.hook[:40]!r}")
    if hook.hook != "patient-view" and not _options(hook):
        return caller, hook, []  # no SI-joint order: nothing to read or say
    if missing(hook.prefetch):
        return caller, hook, None
    return caller, hook, _answer(request.app.state.engine, hook,
                                 request.app.state.settings.public_url)


@router.post("/{service_id}", name="cds.service")
async def call_service(request: Request, service_id: str) -> JSONResponse:
    body = await request.body()
    caller, hook, issued = await run_in_threadpool(_opened, request, service_id, body)

    def audit(db) -> list[dict[str, Any]]:
        return _audit(db, service_id, caller, hook, issued or [])
    if issued is not None:  # the jti is spent with the audit entry, in one commit: a replay
        # sent meanwhile gets its 401 there, and its cards are never sent
        return JSONResponse({"cards": await spent(request, caller, audit)})
    await spent(request, caller, lambda db: None)  # before the EHR's token goes anywhere
    try:
        issued = await run_in_threadpool(_answer, request.app.state.engine, hook,
                                         request.app.state.settings.public_url)
    except Unavailable:
        raise Problem(412, "The patient's data was neither prefetched nor fetchable "
                           "from fhirServer.") from None
    return JSONResponse({"cards": await in_db(request, audit)})


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
    sent: Feedback = _parsed(await request.body(), Feedback)
    await spent(request, caller, lambda db: _file(db, service_id, caller, sent))
    return Response(status_code=200)

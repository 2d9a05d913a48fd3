"""The registry page: the clinic's outcomes per treatment beside the trials, and its report.

Clinicians see their clinics' figures; researchers see every clinic's, with small cells
hidden. Both see aggregates only: no route here reads or shows a patient. Every view is
audited with its filters, since filters are how a reader narrows a cohort; the PDF as an
export.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BeforeValidator
from sqlalchemy import select
from starlette.responses import Response

from sijcare.analytics.queries import Filters
from sijcare.analytics.view import registry_view, stage_choices
from sijcare.model.case import IsoDate, Side
from sijcare.store import record_event, record_export
from sijcare.store.models import Membership, User
from sijcare.web.auth.access import Actor, Role
from sijcare.web.deps import CurrentActor, DbSession, forbidden
from sijcare.web.strict import IdFilter
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
REGISTRY_ROLES = frozenset({Role.clinician, Role.researcher})


async def registry_reader(actor: CurrentActor) -> Actor:
    if actor.role not in REGISTRY_ROLES:
        raise forbidden(actor)
    return actor


Reader = Annotated[Actor, Depends(registry_reader)]
# The form's "Any" and empty dates arrive as empty values: they mean no filter. Dates only as
# YYYY-MM-DD: a plain date also takes `0` and 1700000000 as seconds since 1970.
Blank = BeforeValidator(lambda value: value or None)
From = Annotated[IsoDate | None, Blank, Query(alias="from")]
To = Annotated[IsoDate | None, Blank, Query(alias="to")]
ClinicianId = IdFilter
SideOf = Annotated[Side | None, Blank, Query()]
StageAt = Annotated[Literal[tuple(stage for stage, _ in stage_choices())] | None, Blank,
                    Query()]


def _filters(actor: Actor, date_from: dt.date | None, date_to: dt.date | None,
             clinician: int | None, side: Side | None, stage: str | None) -> Filters:
    clinics = None if actor.role == Role.researcher else tuple(sorted(actor.clinic_ids))
    return Filters(date_from=date_from, date_to=date_to, clinician=clinician, side=side,
                   clinics=clinics, stage=stage)


def _period_problem(date_from: dt.date | None, date_to: dt.date | None) -> str | None:
    """A "from" after its "to" leaves no procedure: said, rather than shown as no data."""
    if date_from and date_to and date_from > date_to:
        return f"is before the from date ({date_from.isoformat()})"
    return None


def _clinicians(db: DbSession, actor: Actor) -> list[tuple[int, str]]:
    query = select(User.id, User.username).where(User.role == Role.clinician)
    if actor.role != Role.researcher:
        query = query.join(Membership).where(Membership.clinic_id.in_(actor.clinic_ids))
    return [(uid, name) for uid, name in db.execute(query.distinct().order_by(User.username))]


@router.get("/registry", name="registry.show")
def registry_page(request: Request, db: DbSession, actor: Reader,
                  date_from: From = None, date_to: To = None,
                  clinician: ClinicianId = None, side: SideOf = None,
                  stage: StageAt = None) -> Response:
    filters = _filters(actor, date_from, date_to, clinician, side, stage)
    suppress = actor.role == Role.researcher
    page = {"filters": filters, "clinicians": _clinicians(db, actor), "suppressed": suppress,
            "sides": ("left", "right", "bilateral"), "stages": stage_choices()}
    if problem := _period_problem(date_from, date_to):
        return render(request, "clinic/registry.html", {
            **page, "view": None, "query": "", "period_problem": problem}, status_code=422)
    view = registry_view(db.connection(), filters, suppress=suppress)
    record_event(db, actor.id, "read", "registry", None, None,
                 {"route": "registry.show", "aggregates_only": True,
                  "filters": filters.applied(), "suppressed": suppress})
    return render(request, "clinic/registry.html", {
        **page, "view": view, "query": request.url.query})


@router.get("/registry/report.pdf", name="registry.report")
def registry_report(request: Request, db: DbSession, actor: Reader,
                    date_from: From = None, date_to: To = None,
                    clinician: ClinicianId = None, side: SideOf = None,
                    stage: StageAt = None) -> Response:
    from sijcare.reports.pdf import registry_report as build

    filters = _filters(actor, date_from, date_to, clinician, side, stage)
    if problem := _period_problem(date_from, date_to):
        raise HTTPException(422, f"to: {problem}")
    suppress = actor.role == Role.researcher
    report = build(db.connection(), filters, suppress=suppress)
    record_export(db, actor.id, "registry", via="registry.report", detail={
        "route": "registry.report", "aggregates_only": True, "filters": filters.applied(),
        "suppressed": suppress})
    return Response(report.pdf, media_type="application/pdf", headers={
        "Content-Disposition": 'attachment; filename="registry-report.pdf"'})

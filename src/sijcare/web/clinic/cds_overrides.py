"""The CDS Hooks override report: per rule and per safety stop, how often clinicians in the
EHR overrode sijcare's cards, who did, and why (`store.cds_hooks.override_report`).

It names EHR users and their reasons, never a patient: a clinician's page, not audited as
a patient read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sijcare.store.cds_hooks import override_report
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.deps import DbSession, require
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Clinical = Annotated[Actor, Depends(require(Permission.clinical_read))]


@router.get("/cds-overrides", name="cds.overrides")
def overrides_page(request: Request, db: DbSession, actor: Clinical) -> Response:
    return render(request, "clinic/cds_overrides.html", {"lines": override_report(db)})

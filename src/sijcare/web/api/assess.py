"""Assess a case posted as JSON, without storing it: the engine as a service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from sijcare.engine import DEFAULT_POLICY, assess
from sijcare.model import Assessment, Case
from sijcare.web.access import Actor, Permission
from sijcare.web.api.policies import checked_policy
from sijcare.web.deps import require

router = APIRouter(prefix="/api/v1", tags=["assess"])


@router.post("/assess", response_model=Assessment)
def assess_case(case: Case, actor: Annotated[Actor, Depends(require(Permission.case_assess))],
                policy: str = DEFAULT_POLICY,
                prior: Annotated[float | None, Query(gt=0, lt=1)] = None) -> Response:
    """The `Assessment` of a case in the case-contract format; 422 names each bad field.

    Nothing is stored and no patient record is read, so this is not audited; researchers
    may use it with anonymous cases.
    """
    result = assess(case, policy=checked_policy(policy), prior=prior)
    return Response(result.model_dump_json(), media_type="application/json")

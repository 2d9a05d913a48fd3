"""Assess a case posted as JSON, without storing it: the engine as a service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator
from starlette.responses import Response

from sijcare.engine import DEFAULT_POLICY, assess
from sijcare.model import Assessment, Case
from sijcare.web.api.policies import Policy
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.deps import require

router = APIRouter(prefix="/api/v1", tags=["assess"])


def _strictly(data: object) -> object:
    """The case validated strictly, as the records API does: yes/no only as `true`/`false`,
    numbers only as numbers (lax validation read `1`, `"yes"`, `"true"` and `0` as yes/no).
    Its problems keep their places in the body."""
    return Case.model_validate(data, strict=True) if isinstance(data, dict) else data


StrictCase = Annotated[Case, BeforeValidator(_strictly)]


@router.post("/assess", response_model=Assessment)
def assess_case(case: StrictCase,
                actor: Annotated[Actor, Depends(require(Permission.case_assess))],
                policy: Policy = DEFAULT_POLICY,
                prior: Annotated[float | None, Query(gt=0, lt=1)] = None) -> Response:
    """The `Assessment` of a case in the case-contract format; 422 names each bad field.

    Nothing is stored and no patient record is read, so this is not audited; researchers
    may use it with anonymous cases.
    """
    result = assess(case, policy=policy, prior=prior)
    return Response(result.model_dump_json(), media_type="application/json")

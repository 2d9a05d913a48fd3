"""Follow-up response rates for the clinic's own reports and dashboards (`/api/v1/follow-up`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from sijcare.store.follow_up import ResponseRate, response_rates
from sijcare.web.as_of import AsOf, day_of
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import clinic_scope
from sijcare.web.deps import DbSession

router = APIRouter(prefix="/api/v1/follow-up", tags=["follow-up"])
Reader = Annotated[Actor, Depends(clinic_scope(Permission.clinical_read))]


class RateOut(BaseModel):
    clinic_id: int
    clinic: str
    point: str
    due: int = Field(description="points whose window has opened")
    answered: int = Field(description="done: every questionnaire answered inside the window")
    missed: int = Field(description="the window closed unanswered")
    open: int = Field(description="inside the window, not answered yet")
    share_answered: float | None = Field(
        description="answered / (answered + missed); null while none is settled")

    @classmethod
    def of(cls, rate: ResponseRate) -> RateOut:
        return cls(clinic_id=rate.clinic_id, clinic=rate.clinic, point=rate.point,
                   due=rate.due, answered=rate.answered, missed=rate.missed, open=rate.open,
                   share_answered=rate.share_answered)


@router.get("/response-rates", response_model=list[RateOut])
def rates_api(db: DbSession, actor: Reader, note: Audited, as_of: AsOf = None) -> list[RateOut]:
    """Follow-up response rates of your clinics per time point, as of `as_of` (today)."""
    note.object_type = "response_rates"
    return [RateOut.of(rate) for rate in response_rates(db, actor.clinic_ids, day_of(as_of))]

"""What an EHR posts: a hook request and feedback on cards, validated before anything runs.

Problems answer 400 naming the field (CDS Hooks leaves the 4xx to the service); extra keys
are tolerated, since EHRs add their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FhirId = Annotated[str, Field(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
Url = Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2000)]


class Lenient(BaseModel):
    """Field names are the specification's (camelCase)."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Context(Lenient):
    patientId: FhirId
    userId: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    encounterId: str | None = None
    draftOrders: dict[str, Any] | None = None
    selections: list[str] | None = None


class Authorization(Lenient):
    access_token: Annotated[str, Field(min_length=1)]
    token_type: Literal["Bearer"]
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None


class HookRequest(Lenient):
    hook: str
    hookInstance: Annotated[str, Field(min_length=1, max_length=100)]
    context: Context
    fhirServer: Url | None = None
    fhirAuthorization: Authorization | None = None
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_token(self) -> HookRequest:
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirAuthorization needs fhirServer (cds-r-1)")
        return self


class Coding(Lenient):
    code: Annotated[str, Field(min_length=1, max_length=100)]
    system: Annotated[str, Field(min_length=1, max_length=300)]
    display: Annotated[str, Field(max_length=300)] | None = None


class OverrideReason(Lenient):
    reason: Coding | None = None
    userComment: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _something(self) -> OverrideReason:
        if self.reason is None and not self.userComment:
            raise ValueError("overrideReason needs reason or userComment (cds-fb-3)")
        return self


class Accepted(Lenient):
    id: Annotated[str, Field(min_length=1, max_length=100)]


class FeedbackItem(Lenient):
    card: Annotated[str, Field(min_length=1, max_length=100)]
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[Accepted] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: dt.datetime

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("an accepted card needs acceptedSuggestions (cds-fb-2)")
        if self.outcome == "accepted" and self.overrideReason is not None:
            raise ValueError("overrideReason goes with an overridden card only")
        return self


class Feedback(Lenient):
    feedback: Annotated[list[FeedbackItem], Field(min_length=1, max_length=100)]

"""The API's own request and response shapes; stored objects never leave unshaped.

Requests are strict: dates only as `YYYY-MM-DD` strings, numbers only as JSON numbers,
yes/no only as `true`/`false`. Times go out in UTC with the zone (`...Z`), as `date-time`
requires; the store keeps them as naive UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import MISSING
from typing import Annotated, Any, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from sijcare.engine import DEFAULT_POLICY
from sijcare.model.case import IsoDate
from sijcare.store.episode_records import TimelineEntry
from sijcare.store.forms import EpisodeForm, PatientForm
from sijcare.store.models import MAX_ROW_ID
from sijcare.web.api.policies import PolicyId
from sijcare.web.strict import one_line


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(_utc)]
STRICT = ConfigDict(strict=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    model_config = STRICT


class PatientIn(PatientForm):
    model_config = STRICT

    payer: PolicyId | None = Field(None, description="The policy the patient's episodes are "  # type: ignore[valid-type]
                                   "assessed under.")
    clinic_id: Annotated[int, Field(ge=1, le=MAX_ROW_ID)] | None = Field(
        None, description="Needed only for users of several clinics.")


class PatientOut(Out):
    id: int
    clinic_id: int
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str
    external_id: str | None
    synthetic: bool = Field(validation_alias="demo", description="A demo or generated patient.")
    created_at: UtcDateTime


class PatientPage(BaseModel):
    items: list[PatientOut]
    page: int
    per_page: int
    total: int


class EpisodeIn(EpisodeForm):
    model_config = STRICT


class EpisodeOut(Out):
    id: int
    patient_id: int
    complaint: str
    opened_on: dt.date
    closed_on: dt.date | None


class RecordIn(In):
    recorded_on: IsoDate = Field(description="The visit at which it was recorded "
                                 "(YYYY-MM-DD, not after today).")
    data: dict[str, Any] = Field(description="The record, shaped like its part of the case "
                                 "contract; `{\"none\": true}` confirms there is none.")


def _shaped(record: type, name: str, doc: str, **overrides: Any) -> type[Out]:
    """A response model with exactly a store dataclass's fields (some retyped for the wire),
    so a field added to the store reaches the API without being listed twice."""
    hints = get_type_hints(record)
    fields: dict[str, Any] = {
        f.name: (overrides.get(f.name, hints[f.name]),
                 ... if f.default is MISSING else f.default)
        for f in dataclasses.fields(record)}
    return create_model(name, __base__=Out, __doc__=doc, **fields)


TimelineEntryOut = _shaped(
    TimelineEntry, "TimelineEntryOut",
    "One timeline entry (the store's `TimelineEntry`), its entry time sent in UTC.",
    created_at=UtcDateTime | None)


class RecordOut(BaseModel):
    kind: str
    id: int


class VoidIn(In):
    reason: str = Field(min_length=1, max_length=200,
                        description="Why the record was entered in error.")


class VoidOut(BaseModel):
    kind: str
    id: int
    voided_on: dt.date
    void_reason: str


class SignatureIn(In):
    seen: str = Field(max_length=200, description="The ETag of the assessment the clinician "
                      "reviewed; signing is refused (409) if the assessment has changed since.")
    policy: PolicyId = DEFAULT_POLICY  # type: ignore[valid-type]
    as_of: IsoDate = Field(description="The day assessed (YYYY-MM-DD, not after today).")


class SignedOut(Out):
    id: int
    episode_id: int
    as_of: dt.date
    policy: str
    stage: str
    knowledge_version: str
    signer_id: int
    signed_at: UtcDateTime
    sha256: str


class Credentials(In):
    username: Annotated[str, AfterValidator(one_line)] = Field(max_length=200)
    password: str = Field(max_length=1000)
    one_time_code: str | None = Field(
        None, max_length=40, description="Required if the account has a second factor: the "
        "authenticator's current 6 digits, or one of its recovery codes.")


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    clinic_ids: list[int]


class SessionOut(BaseModel):
    user: UserOut | None
    csrf_token: str

"""The API's own request and response shapes; stored objects never leave unshaped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sijcare.engine import DEFAULT_POLICY
from sijcare.store.forms import EpisodeForm, PatientForm


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PatientIn(PatientForm):
    clinic_id: int | None = Field(None, description="Needed only for users of several clinics.")


class PatientOut(Out):
    id: int
    clinic_id: int
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str
    external_id: str | None
    synthetic: bool = Field(validation_alias="demo", description="A demo or generated patient.")
    created_at: dt.datetime


class PatientPage(BaseModel):
    items: list[PatientOut]
    page: int
    per_page: int
    total: int


class EpisodeIn(EpisodeForm):
    pass


class EpisodeOut(Out):
    id: int
    patient_id: int
    complaint: str
    opened_on: dt.date
    closed_on: dt.date | None


class RecordIn(BaseModel):
    recorded_on: dt.date = Field(description="The visit at which it was recorded.")
    data: dict[str, Any] = Field(description="The record, shaped like its part of the case "
                                 "contract; `{\"none\": true}` confirms there is none.")


class RecordOut(BaseModel):
    kind: str
    id: int


class VoidIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200,
                        description="Why the record was entered in error.")


class VoidOut(BaseModel):
    kind: str
    id: int
    voided_on: dt.date
    void_reason: str


class SignatureIn(BaseModel):
    seen: str = Field(description="The ETag of the assessment the clinician reviewed; "
                      "signing is refused (409) if the assessment has changed since.")
    policy: str = DEFAULT_POLICY
    as_of: dt.date


class SignedOut(Out):
    id: int
    episode_id: int
    as_of: dt.date
    policy: str
    stage: str
    knowledge_version: str
    signer_id: int
    signed_at: dt.datetime
    sha256: str


class Credentials(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    clinic_ids: list[int]


class SessionOut(BaseModel):
    user: UserOut | None
    csrf_token: str

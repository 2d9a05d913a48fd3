"""Patients: the searchable list, registration, one patient, and their episodes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator

from sijcare.store import (
    NotFound,
    Patient,
    RecordError,
    create_episode,
    create_patient,
    search_patients,
)
from sijcare.store.patients import SORTS
from sijcare.web.api.idempotency import Idempotent
from sijcare.web.api.schemas import EpisodeIn, EpisodeOut, PatientIn, PatientOut, PatientPage
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import clinic_scope, patient_scope, registering_clinic
from sijcare.web.deps import CurrentActor, DbSession, Page
from sijcare.web.problems import unprocessable
from sijcare.web.strict import Search, digits

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])
Sort = Literal[tuple(SORTS)]  # type: ignore[valid-type]
Listing = Annotated[Actor, Depends(clinic_scope(Permission.demographics_read))]
Registering = Annotated[Actor, Depends(clinic_scope(Permission.patient_register))]
Reading = Annotated[Patient, Depends(patient_scope(Permission.demographics_read))]
Opening = Annotated[Patient, Depends(patient_scope(Permission.patient_register))]


@router.get("", response_model=PatientPage)
def list_patients(db: DbSession, actor: Listing, note: Audited,
                  q: Search = "", page: Page = 1,
                  per_page: Annotated[int, BeforeValidator(digits), Query(ge=1, le=200)] = 20,
                  sort: Annotated[Sort, Query(description="The order; `-` before a field "
                                              "reverses it.")] = "family_name") -> PatientPage:
    """The patients of your clinics whose names or clinic number contain every word of `q`."""
    try:
        patients, total = search_patients(db, sorted(actor.clinic_ids), q, page, per_page, sort)
    except RecordError as error:
        raise unprocessable(error.problems, "query") from None
    note.object_type = "patient_list"
    note.detail.update(query=q, page=page, shown=[p.id for p in patients])
    return PatientPage(items=[PatientOut.model_validate(p) for p in patients], page=page,
                       per_page=per_page, total=total)


@router.post("", response_model=PatientOut, status_code=201)
def register_patient(db: DbSession, actor: Registering, note: Audited,
                     body: PatientIn, write: Idempotent) -> PatientOut:
    try:
        clinic_id = registering_clinic(actor, body.clinic_id)
        patient = create_patient(db, clinic_id, body.model_dump(
            mode="json", exclude={"clinic_id"}, exclude_none=True), actor.id)
    except RecordError as error:
        raise unprocessable(error.problems, "body") from None
    note.object_id, note.clinic_id = str(patient.id), clinic_id
    return write.answer(PatientOut.model_validate(patient))


@router.get("/{patient_id}", response_model=PatientOut)
def get_patient(patient: Reading) -> PatientOut:
    return PatientOut.model_validate(patient)


@router.get("/{patient_id}/episodes", response_model=list[EpisodeOut])
def list_episodes(patient: Reading) -> list[EpisodeOut]:
    return [EpisodeOut.model_validate(e) for e in patient.episodes]


@router.post("/{patient_id}/episodes", response_model=EpisodeOut, status_code=201)
def open_episode(db: DbSession, actor: CurrentActor, patient: Opening, note: Audited,
                 body: EpisodeIn, write: Idempotent) -> EpisodeOut:
    try:
        episode = create_episode(db, patient.id, body.model_dump(mode="json",
                                                                 exclude_none=True), actor.id)
    except (RecordError, NotFound) as error:
        problems = error.problems if isinstance(error, RecordError) else [("", str(error))]
        raise unprocessable(problems, "body") from None
    note.detail["episode_id"] = episode.id
    return write.answer(EpisodeOut.model_validate(episode))

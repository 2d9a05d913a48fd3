"""Patient-scoped dependencies: role check, clinic-membership check, audit note, in one place.

A route that takes a patient or an episode gets it only through these, so it cannot skip
the access check or the audit entry. Another clinic's patient answers 404 (see `access.py`),
unless the clinician holds an open break-glass grant for them, which lets them read (and
marks every read `break_glass` in the audit log).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import HTTPException, Path
from pydantic import BeforeValidator

from sijcare.store import Episode, Patient, RecordError, get_episode, get_patient
from sijcare.store.break_glass import active_grant
from sijcare.store.models import MAX_ROW_ID
from sijcare.web.audit import Audited, AuditNote
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.deps import CurrentActor, DbSession, forbidden
from sijcare.web.strict import digits

# Row ids are 32-bit on PostgreSQL: a larger one in a URL answers 422, not a database error.
RowId = Annotated[int, BeforeValidator(digits), Path(ge=1, le=MAX_ROW_ID)]
T = TypeVar("T")


def clinic_scope(permission: Permission) -> Callable[..., Actor]:
    """Lists and registrations: the actor acts within their own clinics."""

    def dependency(actor: CurrentActor, note: Audited) -> Actor:
        if not actor.may(permission):
            raise forbidden(actor)
        return actor

    return dependency


def registering_clinic(actor: Actor, requested: int | None) -> int:
    """The clinic a new patient joins, for the pages and the API alike: the one asked for,
    which must be one of the actor's; else the actor's only clinic. RecordError otherwise."""
    if not actor.clinic_ids:
        raise RecordError([("clinic_id", "you belong to no clinic, so you cannot register "
                                         "patients; ask an administrator to add you to one")])
    if requested is None:
        if len(actor.clinic_ids) > 1:
            raise RecordError([("clinic_id", "you work in several clinics: name one")])
        (requested,) = actor.clinic_ids
    if requested not in actor.clinic_ids:
        raise RecordError([("clinic_id", "not one of your clinics")])
    return requested


def _admit(actor: Actor, note: AuditNote, permission: Permission, kind: str, row_id: int,
           load: Callable[[], T | None], clinic_of: Callable[[T], int],
           broken_glass: Callable[[T], bool] = lambda _: False) -> T:
    """Role first, then clinic membership (or, to read, an open break-glass grant); another
    clinic's object answers 404, audited."""
    note.object_type, note.object_id = kind, str(row_id)
    if not actor.may(permission):
        raise forbidden(actor)
    found = load()
    if found is None:
        raise HTTPException(404, f"No such {kind} in your clinics.")
    if not actor.sees_clinic(clinic_of(found)):
        if permission not in BREAK_GLASS_READS or not broken_glass(found):
            raise HTTPException(404, f"No such {kind} in your clinics.")
        note.detail["break_glass"] = True
    note.clinic_id = clinic_of(found)
    return found


# What a break-glass grant opens: reading, never writing or signing.
BREAK_GLASS_READS = frozenset({Permission.demographics_read, Permission.clinical_read})


def _grant_check(db: DbSession, actor: Actor) -> Callable[[int], bool]:
    return lambda patient_id: (actor.may(Permission.clinical_read)
                               and active_grant(db, actor.id, patient_id) is not None)


def patient_scope(permission: Permission) -> Callable[..., Patient]:
    def dependency(patient_id: RowId, db: DbSession, actor: CurrentActor, note: Audited
                   ) -> Patient:
        glass = _grant_check(db, actor)
        return _admit(actor, note, permission, "patient", patient_id,
                      lambda: get_patient(db, patient_id), lambda p: p.clinic_id,
                      lambda p: glass(p.id))

    return dependency


def episode_scope(permission: Permission) -> Callable[..., Episode]:
    def dependency(episode_id: RowId, db: DbSession, actor: CurrentActor, note: Audited
                   ) -> Episode:
        glass = _grant_check(db, actor)
        return _admit(actor, note, permission, "episode", episode_id,
                      lambda: get_episode(db, episode_id), lambda e: e.patient.clinic_id,
                      lambda e: glass(e.patient_id))

    return dependency

"""Patient-scoped dependencies: role check, clinic-membership check, audit note, in one place.

A route that takes a patient or an episode gets it only through these, so it cannot skip
the access check or the audit entry. Another clinic's patient answers 404 (see `access.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException

from sijcare.store import Episode, Patient, get_episode, get_patient
from sijcare.web.access import Actor, Permission
from sijcare.web.audit import Audited
from sijcare.web.deps import CurrentActor, DbSession, forbidden


def clinic_scope(permission: Permission) -> Callable[..., Actor]:
    """Lists and registrations: the actor acts within their own clinics."""

    def dependency(actor: CurrentActor, note: Audited) -> Actor:
        if not actor.may(permission):
            raise forbidden(actor)
        return actor

    return dependency


def patient_scope(permission: Permission) -> Callable[..., Patient]:
    def dependency(patient_id: int, db: DbSession, actor: CurrentActor, note: Audited
                   ) -> Patient:
        note.object_type, note.object_id = "patient", str(patient_id)
        if not actor.may(permission):
            raise forbidden(actor)
        patient = get_patient(db, patient_id)
        if patient is None or not actor.sees_clinic(patient.clinic_id):
            raise HTTPException(404, "No such patient in your clinics.")
        note.clinic_id = patient.clinic_id
        return patient

    return dependency


def episode_scope(permission: Permission) -> Callable[..., Episode]:
    def dependency(episode_id: int, db: DbSession, actor: CurrentActor, note: Audited
                   ) -> Episode:
        note.object_type, note.object_id = "episode", str(episode_id)
        if not actor.may(permission):
            raise forbidden(actor)
        episode = get_episode(db, episode_id)
        if episode is None or not actor.sees_clinic(episode.patient.clinic_id):
            raise HTTPException(404, "No such episode in your clinics.")
        note.clinic_id = episode.patient.clinic_id
        return episode

    return dependency

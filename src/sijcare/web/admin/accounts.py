"""Accounts from the command line: the first sign-ins of a new database, and `user add`."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sijcare.store import Clinic, Membership, User, create_clinic, create_user, record_event
from sijcare.store.demo import DEMO_USER
from sijcare.web.auth.access import Role
from sijcare.web.auth.passwords import hash_password, password_problem


class AccountError(ValueError):
    """A command-line account request that cannot be met, in one sentence."""


def has_users(db: Session) -> bool:
    return bool(db.scalar(select(func.count(User.id))))


def first_users(db: Session, demo: bool) -> list[tuple[str, str, str]]:
    """An admin, and with the demo a clinician of the demo clinic: (username, role, password).

    The passwords are generated here and shown once; only their hashes are kept.
    """
    created = []
    password = secrets.token_urlsafe(12)
    create_user(db, "admin", hash_password(password), Role.admin, [])
    created.append(("admin", Role.admin.value, password))
    demo_clinic = db.scalar(select(Clinic.id).where(Clinic.demo.is_(True)).order_by(Clinic.id))
    if demo and demo_clinic is not None:
        password = secrets.token_urlsafe(12)
        create_user(db, "clinician", hash_password(password), Role.clinician, [demo_clinic])
        created.append(("clinician", Role.clinician.value, password))
    return created


def demo_accounts(db: Session) -> list[tuple[str, str, str]]:
    """Every account of the demo clinic as (username, role, state), for start-up to list."""
    users = db.scalars(select(User).join(Membership).join(Clinic, Clinic.id == Membership.clinic_id)
                       .where(Clinic.demo.is_(True)).order_by(User.username)).unique()
    return [(u.username, u.role, "active" if u.active else
             "deactivated: authors the demo records" if u.username == DEMO_USER else
             "deactivated") for u in users]


def add_user(db: Session, username: str, password: str, role: str,
             clinic_names: list[str]) -> tuple[User, list[str]]:
    """A new user in the named clinics (created if new); returns the user and new clinics."""
    if role not in {r.value for r in Role}:
        raise AccountError(f"--role: '{role}' is not a role; choose one of: "
                           f"{', '.join(r.value for r in Role)}")
    if problem := password_problem(password, username):
        raise AccountError(f"password: {problem}")
    clinic_ids, new = [], []
    for name in clinic_names:
        clinic_id = db.scalar(select(Clinic.id).where(Clinic.name == name.strip()))
        if clinic_id is None:
            clinic_id = create_clinic(db, name).id
            new.append(name.strip())
        clinic_ids.append(clinic_id)
    user = create_user(db, username, hash_password(password), role, clinic_ids)
    record_event(db, None, "create", "user", user.id,
                 detail={"role": role, "clinic_ids": clinic_ids, "via": "cli"})
    return user, new

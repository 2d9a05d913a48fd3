"""Clinics, users and who works where. Passwords arrive hashed (argon2, by the web layer)."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.errors import RecordError, problems_of
from sijcare.store.forms import UserForm
from sijcare.store.models import Clinic, Membership, User


def create_clinic(session: Session, name: str, *, demo: bool = False) -> Clinic:
    name = name.strip()
    if not name or len(name) > 200:
        raise RecordError([("name", "needs 1 to 200 characters")])
    if session.scalar(select(Clinic.id).where(Clinic.name == name)) is not None:
        raise RecordError([("name", f"a clinic named '{name}' already exists")])
    clinic = Clinic(name=name, demo=demo)
    session.add(clinic)
    session.flush()
    return clinic


def create_user(session: Session, username: str, password_hash: str, role: str,
                clinic_ids: list[int]) -> User:
    """A user who may see the patients of `clinic_ids`; usernames are case-insensitive."""
    try:
        form = UserForm(username=username, password_hash=password_hash, role=role,
                        clinic_ids=clinic_ids)
    except ValidationError as error:
        raise RecordError(problems_of(error)) from None
    if get_user_by_username(session, form.username) is not None:
        raise RecordError([("username", f"'{form.username}' is taken")])
    known = set(session.scalars(select(Clinic.id).where(Clinic.id.in_(form.clinic_ids))))
    if unknown := sorted(set(form.clinic_ids) - known):
        raise RecordError([("clinic_ids", f"no clinic with id {', '.join(map(str, unknown))}")])
    user = User(username=form.username, password_hash=form.password_hash, role=form.role,
                memberships=[Membership(clinic_id=cid) for cid in sorted(known)])
    session.add(user)
    session.flush()
    return user


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def require_member(session: Session, user_id: int, clinic_id: int) -> None:
    """Writes to a clinic's patients come only from its members, whatever the caller checked."""
    if session.get(Membership, (user_id, clinic_id)) is None:
        raise PermissionError(f"user {user_id} is not a member of clinic {clinic_id}")

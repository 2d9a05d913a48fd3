"""Clinics, users and who works where. Passwords arrive hashed (argon2, by the web layer)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.errors import NotFound, RecordError, problems_of
from sijcare.store.forms import UserForm
from sijcare.store.models import Clinic, Membership, User, UserProfile, utcnow
from sijcare.store.web_sessions import end_user_sessions


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
                clinic_ids: list[int], *, email: str | None = None,
                created_by: int | None = None) -> User:
    """A user who may see the patients of `clinic_ids`; usernames are case-insensitive.

    A clinician an admin creates (`created_by`) reads no patient until another admin
    approves the account (`approve_user`)."""
    try:
        form = UserForm(username=username, password_hash=password_hash, role=role,
                        clinic_ids=clinic_ids, email=email or None)
    except ValidationError as error:
        raise RecordError(problems_of(error)) from None
    if get_user_by_username(session, form.username) is not None:
        raise RecordError([("username", f"'{form.username}' is taken")])
    known = set(session.scalars(select(Clinic.id).where(Clinic.id.in_(form.clinic_ids))))
    if unknown := sorted(set(form.clinic_ids) - known):
        raise RecordError([("clinic_ids", f"no clinic with id {', '.join(map(str, unknown))}")])
    user = User(username=form.username, password_hash=form.password_hash, role=form.role,
                email=form.email, created_by=created_by,
                approval_pending=created_by is not None and form.role == "clinician",
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


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def set_active(session: Session, user_id: int, active: bool, actor_id: int) -> User:
    """Deactivate (no more sign-ins; its open sessions are deleted) or reactivate an account;
    audited.
    An admin cannot deactivate their own account, so one admin always remains."""
    user = _user(session, user_id)
    if not active and user_id == actor_id:
        raise RecordError([("", "you cannot deactivate your own account")])
    if user.active == active:
        raise RecordError([("", f"the account is {'active' if active else 'inactive'} "
                                "already")])
    user.active = active
    ended = 0 if active else end_user_sessions(session, user.id)
    session.flush()
    record_event(session, actor_id, "activate" if active else "deactivate", "user", user.id,
                 detail=None if active else {"sessions_ended": ended})
    return user


def set_access(session: Session, user_id: int, role: str, clinic_ids: list[int],
               actor_id: int) -> User:
    """An admin changes what a user may do and whose patients they see; audited with the
    before and after. An admin cannot change their own role (one admin always remains). A
    user made a clinician waits for another admin's approval, as a clinician account created
    by an admin does (`approve_user`): the admin who grants the role stands as its creator."""
    user = _user(session, user_id)
    if user_id == actor_id and role != user.role:
        raise RecordError([("role", "you cannot change your own role")])
    known = set(session.scalars(select(Clinic.id).where(Clinic.id.in_(clinic_ids))))
    if unknown := sorted(set(clinic_ids) - known):
        raise RecordError([("clinic_ids", f"no clinic with id {', '.join(map(str, unknown))}")])
    before = {"role": user.role, "clinic_ids": sorted(m.clinic_id for m in user.memberships)}
    after = {"role": role, "clinic_ids": sorted(known)}
    if before == after:
        return user
    if role == "clinician" and user.role != "clinician":
        user.approval_pending, user.created_by = True, actor_id
    user.role = role
    kept = [m for m in user.memberships if m.clinic_id in known]
    user.memberships = kept + [Membership(clinic_id=cid) for cid in sorted(known)
                               if cid not in {m.clinic_id for m in kept}]
    session.flush()
    record_event(session, actor_id, "change_access", "user", user.id,
                 detail={"before": before, "after": after})
    return user


def set_profile(session: Session, user_id: int, full_name: str, credentials: str,
                actor_id: int) -> User:
    """How signed notes name the user ("Dr Ana Ruiz", "MD, FIPP"); blank clears. Audited."""
    user = _user(session, user_id)
    if problems := profile_problems(full_name, credentials):
        raise RecordError(problems)
    profile = _profile(session, user)
    profile.full_name, profile.credentials = full_name.strip() or None, credentials.strip() or None
    session.flush()
    record_event(session, actor_id, "update", "user", user.id,
                 detail={"full_name": profile.full_name, "credentials": profile.credentials})
    return user


def _profile(session: Session, user: User) -> UserProfile:
    if user.profile is None:
        user.profile = UserProfile(user_id=user.id)
        session.add(user.profile)
    return user.profile


def note_sign_in(session: Session, user: User) -> None:
    """The user signed in now (the admin's list shows when each last did): one statement
    that adds or updates the profile, so sign-ins of one user at once never collide."""
    upsert = (postgresql_insert if session.get_bind().dialect.name == "postgresql"
              else sqlite_insert)
    now = utcnow()
    statement = upsert(UserProfile).values(user_id=user.id, last_sign_in_at=now)
    session.execute(statement.on_conflict_do_update(index_elements=["user_id"],
                                                    set_={"last_sign_in_at": now}))


def profile_problems(full_name: str, credentials: str) -> list[tuple[str, str]]:
    return [(name, "needs at most 120 characters") for name, value in
            (("full_name", full_name), ("credentials", credentials)) if len(value.strip()) > 120]


def signer_name(user: User) -> str:
    """The name a signature shows: "Dr Ana Ruiz, MD" when known, else the username."""
    profile = user.profile
    name = (profile and profile.full_name) or user.username
    return f"{name}, {profile.credentials}" if profile and profile.credentials else name


def reset_password(session: Session, user_id: int, password_hash: str, actor_id: int) -> User:
    """An admin sets a temporary password; the user must choose a new one at next sign-in.
    The user's open sessions are deleted."""
    user = _user(session, user_id)
    user.password_hash, user.must_change_password = password_hash, True
    ended = end_user_sessions(session, user.id)
    session.flush()
    record_event(session, actor_id, "reset_password", "user", user.id,
                 detail={"sessions_ended": ended})
    return user


def approve_user(session: Session, user_id: int, actor_id: int) -> User:
    """A second admin's approval of a clinician account; the creator cannot approve it."""
    user = _user(session, user_id)
    if not user.approval_pending:
        raise RecordError([("", "the account needs no approval")])
    if actor_id in (user.created_by, user.id):
        raise RecordError([("", "another administrator must approve an account you created")])
    user.approval_pending = False
    session.flush()
    record_event(session, actor_id, "approve", "user", user.id,
                 detail={"created_by": user.created_by})
    return user


def set_second_factor_required(session: Session, clinic_id: int, required: bool,
                               actor_id: int) -> Clinic:
    """Whether the clinic's clinicians must sign in with a second factor; audited."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"no clinic {clinic_id}")
    clinic.second_factor_required = required
    session.flush()
    record_event(session, actor_id, "update", "clinic", clinic.id,
                 detail={"second_factor_required": required})
    return clinic


def change_password(session: Session, user_id: int, password_hash: str) -> User:
    """The user's own new password; it clears a pending reset. Audited."""
    user = _user(session, user_id)
    user.password_hash, user.must_change_password = password_hash, False
    end_user_sessions(session, user.id)  # the caller signs the current browser in again
    session.flush()
    record_event(session, user.id, "change_password", "user", user.id)
    return user


def time_zones() -> list[str]:
    """The IANA zone names a clinic may choose, sorted."""
    return sorted(available_timezones())


def set_time_zone(session: Session, clinic_id: int, zone: str, actor_id: int) -> Clinic:
    """The zone the clinic's pages show local times in; RecordError for an unknown zone."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"no clinic {clinic_id}")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecordError([("time_zone", f"'{zone}' is not a time zone (e.g. Europe/Berlin)")]
                          ) from None
    clinic.time_zone = zone
    session.flush()
    record_event(session, actor_id, "update", "clinic", clinic.id, detail={"time_zone": zone})
    return clinic

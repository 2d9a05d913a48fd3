"""User accounts and clinic settings, for admins: who may sign in, with which role, in which
clinics; deactivation, password resets, and each clinic's time zone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from sijcare.notify.security import notify_security
from sijcare.store import (
    Clinic,
    NotFound,
    RecordError,
    User,
    create_user,
    record_event,
    reset_password,
    set_active,
    set_time_zone,
)
from sijcare.store.second_factors import enrolled_users
from sijcare.store.users import time_zones
from sijcare.web.auth.access import Actor, Permission, Role
from sijcare.web.auth.passwords import hash_password, password_problem
from sijcare.web.auth.reauth import require_fresh
from sijcare.web.auth.scope import RowId
from sijcare.web.deps import DbSession, SubmittedForm, require
from sijcare.web.forms import FormField
from sijcare.web.submissions import attach, read_fields
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Admin = Annotated[Actor, Depends(require(Permission.users_manage))]
FreshAdmin = Annotated[Actor, Depends(require_fresh(Permission.users_manage))]  # changes
ROLES = tuple((r.value, r.value.capitalize()) for r in Role)
ROLE_PROMPT = "Choose a role"  # no default: a role is always chosen on purpose


def user_fields(db: DbSession) -> list[FormField]:
    clinics = tuple((str(c.id), c.name) for c in db.scalars(select(Clinic).order_by(Clinic.name)))
    return [
        FormField("username", "Username", "text", hint="Lower case letters, digits, . _ -"),
        FormField("email", "Email (optional)", "text",
                  hint="Where security notices go: lockouts, password resets, new devices."),
        FormField("password", "Initial password", "password",
                  hint="At least 12 characters, not a common password and not the "
                       "username; give it to the user in person."),
        FormField("role", "Role", "choice", ROLES, hint="Required: what the user may do."),
        FormField("clinic_ids", "Clinics", "multi", clinics,
                  hint="The clinics whose patients this user may see.",
                  none_label="No clinic (admins, researchers)"),
    ]


def _page(request: Request, db: DbSession, values: dict, errors: dict,
          status_code: int = 200, account_error: tuple[int, str] | None = None,
          zone_error: tuple[int, str] | None = None) -> Response:
    fields = user_fields(db)
    users = db.scalars(select(User).order_by(User.username)).all()
    clinics = db.scalars(select(Clinic).order_by(Clinic.name)).all()
    return render(request, "admin/users.html", {
        "users": users, "clinic_names": {c.id: c.name for c in clinics}, "clinics": clinics,
        "fields": fields, "fields_by_name": {f.name: f for f in fields}, "values": values,
        "errors": errors, "role_prompt": ROLE_PROMPT, "zones": time_zones(),
        "account_error": account_error, "zone_error": zone_error, "zone": "UTC",
        "locked": request.app.state.throttle.locked(db),
        "enrolled_ids": enrolled_users(db)}, status_code=status_code)


@router.get("/admin/users", name="users.list")
def users(request: Request, db: DbSession, admin: Admin) -> Response:
    return _page(request, db, {}, {})


@router.post("/admin/users", name="users.create")
def add_user(request: Request, db: DbSession, admin: FreshAdmin, form: SubmittedForm) -> Response:
    values, errors, data = read_fields(user_fields(db), form)
    if not data.get("username"):
        errors.setdefault("username", "is required")
    if problem := password_problem(data.get("password", ""), data.get("username", "")):
        errors.setdefault("password", problem)
    if not data.get("role"):
        errors.setdefault("role", "choose a role")
    if not errors:
        try:
            user = create_user(db, data["username"], hash_password(data["password"]),
                               data["role"], [int(c) for c in data.get("clinic_ids", [])],
                               email=data.get("email"), created_by=admin.id)
        except RecordError as error:
            attach(error.problems, errors, values)
    if errors:
        values["password"] = ""  # never echo a password back into the page
        return _page(request, db, values, errors, 422)
    record_event(db, admin.id, "create", "user", user.id,
                 detail={"role": user.role, "clinic_ids": [m.clinic_id for m in user.memberships],
                         "approval_pending": user.approval_pending})
    request.state.session.say("User account created; another administrator must approve it "
                              "before it reads patients." if user.approval_pending
                              else "User account created.")
    return RedirectResponse("/admin/users", status_code=303)


def _account_changed(request: Request, user_id: int, message: str) -> Response:
    """Open sessions see the change on their next request, not after the actor cache ages."""
    request.app.state.actors.forget(user_id)
    request.state.session.say(message)
    return RedirectResponse("/admin/users", status_code=303)


def refused_change(request: Request, db: DbSession, user_id: int, error: RecordError
                   ) -> Response:
    db.rollback()
    return _page(request, db, {}, {}, 422, (user_id, error.problems[0][1]))


@router.post("/admin/users/{user_id}/deactivate", name="users.deactivate")
@router.post("/admin/users/{user_id}/reactivate", name="users.reactivate")
def activation(request: Request, db: DbSession, admin: FreshAdmin, user_id: RowId) -> Response:
    active = request.url.path.endswith("/reactivate")
    try:
        set_active(db, user_id, active, admin.id)
    except NotFound:
        raise HTTPException(404, "No such user.") from None
    except RecordError as error:
        return refused_change(request, db, user_id, error)
    return _account_changed(request, user_id, "Account reactivated." if active else
                            "Account deactivated; its sessions have ended.")


@router.post("/admin/users/{user_id}/password", name="users.reset_password")
def reset(request: Request, db: DbSession, admin: FreshAdmin, user_id: RowId,
          form: SubmittedForm) -> Response:
    """A temporary password the admin hands over; the user must change it at next sign-in."""
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    account = db.get(User, user_id)
    if account is None:
        raise HTTPException(404, "No such user.")
    if problem := password_problem(password, account.username):
        return refused_change(request, db, user_id, RecordError([("password", problem)]))
    try:
        reset_password(db, user_id, hash_password(password), admin.id)
    except NotFound:
        raise HTTPException(404, "No such user.") from None
    notify_security(db, "password_reset", account, admins=True)
    return _account_changed(request, user_id, "Password reset; the user must change it at "
                                              "next sign-in. Their sessions have ended.")


@router.post("/admin/clinics/{clinic_id}/time-zone", name="clinics.time_zone")
def clinic_time_zone(request: Request, db: DbSession, admin: FreshAdmin, clinic_id: RowId,
                     form: SubmittedForm) -> Response:
    zone = form.get("time_zone")
    try:
        set_time_zone(db, clinic_id, zone.strip() if isinstance(zone, str) else "", admin.id)
    except NotFound:
        raise HTTPException(404, "No such clinic.") from None
    except RecordError as error:
        db.rollback()
        return _page(request, db, {}, {}, 422, zone_error=(clinic_id, error.problems[0][1]))
    request.state.session.say("Clinic time zone saved.")
    return RedirectResponse("/admin/users", status_code=303)


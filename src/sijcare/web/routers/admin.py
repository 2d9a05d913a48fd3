"""User accounts, for admins: who may sign in, with which role, in which clinics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from sijcare.store import Clinic, RecordError, User, create_user, record_event
from sijcare.web.access import Actor, Permission, Role
from sijcare.web.deps import DbSession, SubmittedForm, require
from sijcare.web.forms import FormField
from sijcare.web.passwords import hash_password, password_problem
from sijcare.web.submissions import attach, read_fields
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Admin = Annotated[Actor, Depends(require(Permission.users_manage))]
ROLES = tuple((r.value, r.value.capitalize()) for r in Role)


def user_fields(db: DbSession) -> list[FormField]:
    clinics = tuple((str(c.id), c.name) for c in db.scalars(select(Clinic).order_by(Clinic.name)))
    return [
        FormField("username", "Username", "text", hint="Lower case letters, digits, . _ -"),
        FormField("password", "Initial password", "password",
                  hint="At least 12 characters; give it to the user in person."),
        FormField("role", "Role", "choice", ROLES),
        FormField("clinic_ids", "Clinics", "multi", clinics,
                  hint="The clinics whose patients this user may see.",
                  none_label="No clinic (admins, researchers)"),
    ]


def _page(request: Request, db: DbSession, values: dict, errors: dict,
          status_code: int = 200) -> Response:
    fields = user_fields(db)
    users = db.scalars(select(User).order_by(User.username)).all()
    clinic_names = dict(db.execute(select(Clinic.id, Clinic.name)).all())
    return render(request, "admin/users.html", {
        "users": users, "clinic_names": clinic_names, "fields": fields,
        "fields_by_name": {f.name: f for f in fields}, "values": values, "errors": errors},
        status_code=status_code)


@router.get("/admin/users", name="users.list")
def users(request: Request, db: DbSession, admin: Admin) -> Response:
    return _page(request, db, {}, {})


@router.post("/admin/users", name="users.create")
def add_user(request: Request, db: DbSession, admin: Admin, form: SubmittedForm) -> Response:
    values, errors, data = read_fields(user_fields(db), form)
    if not data.get("username"):
        errors.setdefault("username", "is required")
    if problem := password_problem(data.get("password", "")):
        errors.setdefault("password", problem)
    if not data.get("role"):
        errors.setdefault("role", "choose a role")
    if not errors:
        try:
            user = create_user(db, data["username"], hash_password(data["password"]),
                               data["role"], [int(c) for c in data.get("clinic_ids", [])])
        except RecordError as error:
            attach(error.problems, errors, values)
    if errors:
        values["password"] = ""  # never echo a password back into the page
        return _page(request, db, values, errors, 422)
    record_event(db, admin.id, "create", "user", user.id,
                 detail={"role": user.role, "clinic_ids": [m.clinic_id for m in user.memberships]})
    request.state.session.say("User account created.")
    return RedirectResponse("/admin/users", status_code=303)

"""One user's account, for admins: role and clinics, the name and credentials signed notes
show, a confirmation before deactivation, and unlocking a name the sign-in throttle locked."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from sijcare.store import RecordError, User, record_event
from sijcare.store.users import profile_problems, set_access, set_profile
from sijcare.web.admin.users import Admin, FreshAdmin, user_fields
from sijcare.web.auth.access import Role
from sijcare.web.auth.scope import RowId
from sijcare.web.deps import DbSession, SubmittedForm
from sijcare.web.forms import FormField
from sijcare.web.submissions import attach, read_fields
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
PROFILE = [
    FormField("full_name", "Full name", "text", hint="As signed notes name the user, e.g. "
              "Dr Ana Ruiz. Blank: the username."),
    FormField("credentials", "Credentials", "text", hint="Shown after the name on signed "
              "notes, e.g. MD, FIPP."),
]


def _account(db: DbSession, user_id: int) -> User:
    account = db.get(User, user_id)
    if account is None:
        raise HTTPException(404, "No such user.")
    return account


def _edit_fields(db: DbSession) -> list[FormField]:
    return [f for f in user_fields(db) if f.name in ("role", "clinic_ids")] + PROFILE


def _edit_page(request: Request, db: DbSession, account: User, values: dict, errors: dict,
               status_code: int = 200) -> Response:
    fields = _edit_fields(db)
    return render(request, "admin/user_edit.html", {
        "account": account, "fields": fields, "fields_by_name": {f.name: f for f in fields},
        "values": values, "errors": errors}, status_code=status_code)


@router.get("/admin/users/{user_id}", name="users.edit")
def edit(request: Request, db: DbSession, admin: Admin, user_id: RowId) -> Response:
    account = _account(db, user_id)
    values = {"role": account.role, "clinic_ids": [str(m.clinic_id) for m in account.memberships],
              "full_name": (account.profile and account.profile.full_name) or "",
              "credentials": (account.profile and account.profile.credentials) or ""}
    return _edit_page(request, db, account, values, {})


@router.post("/admin/users/{user_id}", name="users.update")
def update(request: Request, db: DbSession, admin: FreshAdmin, user_id: RowId,
           form: SubmittedForm) -> Response:
    """Saves role, clinics, name and credentials together, or nothing with every problem."""
    account = _account(db, user_id)
    fields = _edit_fields(db)
    values, errors, data = read_fields(fields, form)
    if data.get("role") not in {r.value for r in Role}:
        errors.setdefault("role", "choose a role")
    attach(profile_problems(data.get("full_name", ""), data.get("credentials", "")), errors,
           values)
    if not errors:
        try:
            set_access(db, account.id, data["role"], [int(c) for c in data.get("clinic_ids", [])],
                       admin.id)
            set_profile(db, account.id, data.get("full_name", ""), data.get("credentials", ""),
                        admin.id)
        except RecordError as error:
            db.rollback()
            attach(error.problems, errors, values)
    if errors:
        return _edit_page(request, db, _account(db, user_id), values, errors, 422)
    request.app.state.actors.forget(account.id)  # open sessions see the new role at once
    request.state.session.say("User account saved.")
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users/{user_id}/deactivate", name="users.confirm_deactivate")
def confirm_deactivate(request: Request, db: DbSession, admin: Admin, user_id: RowId
                       ) -> Response:
    """Asks before the account stops signing in and its open sessions end."""
    return render(request, "admin/user_deactivate.html", {"account": _account(db, user_id)})


@router.post("/admin/users/{user_id}/unlock", name="users.unlock")
def unlock(request: Request, db: DbSession, admin: FreshAdmin, user_id: RowId) -> Response:
    """Forgets the failed sign-ins that locked the name (audited), so the user may try again."""
    account = _account(db, user_id)
    forgotten = request.app.state.throttle.unlock(db, account.username)
    record_event(db, admin.id, "unlock", "user", account.id,
                 detail={"failures_forgotten": forgotten})
    request.state.session.say("Account unlocked.")
    return RedirectResponse("/admin/users", status_code=303)

"""A user's own account: changing the password (required after an admin's reset)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sijcare.store import User, change_password
from sijcare.web.auth.passwords import hash_password, password_problem, verify_password
from sijcare.web.auth.signin import renew_sign_in
from sijcare.web.deps import PASSWORD_CHANGE_PATH, CurrentActor, DbSession, SubmittedForm
from sijcare.web.forms import FormField
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
FIELDS = [
    FormField("current", "Current password", "password",
              hint="The one you signed in with (the temporary one after a reset)."),
    FormField("new", "New password", "password", hint="At least 12 characters, not a "
              "common password and not your username: a few uncommon words work well."),
    FormField("repeat", "New password again", "password"),
]


def _page(request: Request, actor: CurrentActor, errors: dict[str, str],
          status_code: int = 200) -> Response:
    return render(request, "admin/password.html", {
        "fields": FIELDS, "fields_by_name": {f.name: f for f in FIELDS}, "values": {},
        "errors": errors, "required": actor.must_change_password}, status_code=status_code)


@router.get(PASSWORD_CHANGE_PATH, name="account.password")
def password_form(request: Request, actor: CurrentActor) -> Response:
    return _page(request, actor, {})


@router.post(PASSWORD_CHANGE_PATH, name="account.change_password")
def change(request: Request, db: DbSession, actor: CurrentActor,
           form: SubmittedForm) -> Response:
    typed = {f.name: v if isinstance(v := form.get(f.name), str) else "" for f in FIELDS}
    user = db.get(User, actor.id)
    errors = {}
    if user is None or not verify_password(user.password_hash, typed["current"]):
        errors["current"] = "this is not your current password"
    if problem := password_problem(typed["new"], actor.username):
        errors["new"] = problem
    elif typed["new"] == typed["current"]:
        errors["new"] = "choose a password different from the current one"
    if typed["repeat"] != typed["new"]:
        errors["repeat"] = "the two new passwords differ"
    if errors or user is None:
        return _page(request, actor, errors, 422)
    change_password(db, user.id, hash_password(typed["new"]))
    request.app.state.actors.forget(user.id)
    renew_sign_in(request, db, user)  # every sign-in under the old password has ended
    request.state.session.say("Password changed.")
    return RedirectResponse("/", status_code=303)

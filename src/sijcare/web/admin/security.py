"""Admins' sign-in and access controls: approving a clinician account another admin created,
resetting a user's second factor (a lost phone), and whether a clinic's clinicians must use
one. Each needs a recent proof of the admin's identity (`auth/reauth.py`) and is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from sijcare.notify.security import notify_security
from sijcare.store import NotFound, RecordError, User, record_event
from sijcare.store.second_factors import remove_second_factor
from sijcare.store.users import approve_user, set_second_factor_required
from sijcare.store.web_sessions import end_user_sessions
from sijcare.web.admin.users import refused_change
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.reauth import require_fresh
from sijcare.web.auth.scope import RowId
from sijcare.web.deps import DbSession, SubmittedForm

router = APIRouter(include_in_schema=False)
FreshAdmin = Annotated[Actor, Depends(require_fresh(Permission.users_manage))]


def _done(request: Request, user_id: int | None, message: str) -> Response:
    if user_id is not None:
        request.app.state.actors.forget(user_id)
    request.state.session.say(message)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/approve", name="users.approve")
def approve(request: Request, db: DbSession, admin: FreshAdmin, user_id: RowId) -> Response:
    try:
        approve_user(db, user_id, admin.id)
    except NotFound:
        raise HTTPException(404, "No such user.") from None
    except RecordError as error:
        return refused_change(request, db, user_id, error)
    return _done(request, user_id, "Account approved: it may now read its clinics' patients.")


@router.post("/admin/users/{user_id}/two-factor/reset", name="users.reset_two_factor")
def reset_two_factor(request: Request, db: DbSession, admin: FreshAdmin,
                     user_id: RowId) -> Response:
    """For a lost authenticator: the factor and recovery codes go, every session ends; the
    user enrols again at next sign-in if their role or clinic requires it."""
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(404, "No such user.")
    if not remove_second_factor(db, user_id):
        return refused_change(request, db, user_id,
                              RecordError([("", "the account has no second factor")]))
    ended = end_user_sessions(db, user_id)
    record_event(db, admin.id, "reset_second_factor", "user", user_id,
                 detail={"sessions_ended": ended})
    notify_security(db, "second_factor_reset", user, admins=True)
    return _done(request, user_id, "Second factor reset; the user's sessions have ended.")


@router.post("/admin/clinics/{clinic_id}/second-factor", name="clinics.second_factor")
def clinic_second_factor(request: Request, db: DbSession, admin: FreshAdmin, clinic_id: RowId,
                         form: SubmittedForm) -> Response:
    required = form.get("required") == "yes"
    try:
        set_second_factor_required(db, clinic_id, required, admin.id)
    except NotFound:
        raise HTTPException(404, "No such clinic.") from None
    return _done(request, None, "The clinic's clinicians must now sign in with a second step."
                 if required else "The clinic's clinicians may choose a second step.")

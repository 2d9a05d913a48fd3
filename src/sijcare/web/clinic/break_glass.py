"""Break-glass access: in an emergency a clinician may read a patient of a clinic they do not
work in, for `break_glass_seconds`, after giving a reason. The grant is audited, every read
under it is marked in the audit log, and the admins are told by email at once."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from sijcare.notify.security import notify_security
from sijcare.store import RecordError, User
from sijcare.store.break_glass import MAX_REASON, MIN_REASON, grant_break_glass
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.deps import DbSession, SubmittedForm, require
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Clinician = Annotated[Actor, Depends(require(Permission.clinical_read))]
PATH = "/break-glass"


def _page(request: Request, values: dict[str, str], errors: dict[str, str],
          status_code: int = 200) -> Response:
    return render(request, "clinic/break_glass.html", {
        "values": values, "errors": errors, "min_reason": MIN_REASON, "max_reason": MAX_REASON,
        "minutes": request.app.state.settings.break_glass_seconds // 60},
        status_code=status_code)


@router.get(PATH, name="break_glass.form")
def form(request: Request, actor: Clinician) -> Response:
    return _page(request, {}, {})


@router.post(PATH, name="break_glass.open")
def open_access(request: Request, db: DbSession, actor: Clinician,
                submitted: SubmittedForm) -> Response:
    values = {k: v if isinstance(v := submitted.get(k), str) else "" for k in
              ("patient_id", "reason")}
    number = values["patient_id"].strip()
    if not (number.isascii() and number.isdigit() and 0 < len(number) <= 9):
        return _page(request, values, {"patient_id": "type the patient's number (digits)"}, 422)
    lasts = dt.timedelta(seconds=request.app.state.settings.break_glass_seconds)
    try:
        grant = grant_break_glass(db, actor.id, int(number), values["reason"], lasts)
    except RecordError as error:
        db.rollback()
        return _page(request, values, dict(error.problems), 422)
    notify_security(db, "break_glass", db.get(User, actor.id), admins=True,
                    patient_id=grant.patient_id, reason=grant.reason,
                    until=grant.expires_at.strftime("%Y-%m-%d %H:%M"))
    request.state.session.say("Break-glass access open; it is logged and the administrators "
                              "have been told.")
    return RedirectResponse(f"/patients/{grant.patient_id}", status_code=303)

"""Merged patient records, for admins: the list of merges by record number (an admin reads no
patient data) and undoing one (`store.merges.unmerge_patients`), with a fresh proof and a
reason, appended to the audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from sijcare.store import Clinic, NotFound, RecordError, User
from sijcare.store.merges import all_merges, unmerge_patients
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.reauth import require_fresh
from sijcare.web.auth.scope import RowId
from sijcare.web.deps import DbSession, SubmittedForm, require
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Admin = Annotated[Actor, Depends(require(Permission.users_manage))]
FreshAdmin = Annotated[Actor, Depends(require_fresh(Permission.users_manage))]


def _page(request: Request, db: DbSession, refused: tuple[int, str] | None = None,
          status_code: int = 200) -> Response:
    merges = all_merges(db)
    users = {u.id: u.username for u in db.scalars(select(User).where(User.id.in_(
        {m.merged_by for m in merges} | {m.unmerged_by for m in merges if m.unmerged_by})))}
    clinics = {row.id: row.name for row in db.execute(select(Clinic.id, Clinic.name))}
    return render(request, "admin/merges.html", {
        "merges": merges, "users": users, "clinics": clinics, "refused": refused},
        status_code=status_code)


@router.get("/admin/merges", name="merges.list")
def merges(request: Request, db: DbSession, admin: Admin) -> Response:
    return _page(request, db)


@router.post("/admin/merges/{merge_id}/unmerge", name="merges.unmerge")
def unmerge(request: Request, db: DbSession, admin: FreshAdmin, merge_id: RowId,
            form: SubmittedForm) -> Response:
    try:
        unmerge_patients(db, merge_id, form.get("reason"), admin.id)
    except NotFound:
        raise HTTPException(404, "No such merge.") from None
    except RecordError as error:
        db.rollback()
        return _page(request, db, (merge_id, error.problems[0][1]), 422)
    request.state.session.say(f"Merge {merge_id} undone: both records are listed again, each "
                              "with what it held before.")
    return RedirectResponse("/admin/merges", status_code=303)

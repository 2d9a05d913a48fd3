"""A signed assessment opened as it was signed: the stored snapshot, not a new assessment,
with its addenda under it (signed additions; the snapshot is never edited). Its PDF, on the
clinic's letterhead, is one of the reports (`reports.py`)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from sijcare.stops import reads_first
from sijcare.store import Episode, NotFound, RecordError, SignedAssessment, seal_intact
from sijcare.store.addenda import add_addendum, addenda
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Permission
from sijcare.web.auth.scope import RowId, episode_scope
from sijcare.web.clinic.banner import banner_of, banner_page
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm

router = APIRouter(include_in_schema=False)
Reading = Annotated[Episode, Depends(episode_scope(Permission.clinical_read))]
Signing = Annotated[Episode, Depends(episode_scope(Permission.assessment_sign))]


def signed_of(db: DbSession, episode: Episode, signed_id: int) -> SignedAssessment:
    signed = db.get(SignedAssessment, signed_id)
    if signed is None or signed.episode_id != episode.id:
        raise HTTPException(404, "No such signed assessment in this episode.")
    return signed


def _page(request: Request, db: DbSession, episode: Episode, signed: SignedAssessment,
          draft: str = "", error: str | None = None, status_code: int = 200) -> Response:
    return banner_page(request, db, "clinic/records/signed.html", {
        "episode": episode, "patient": episode.patient, "signed": signed,
        "intact": seal_intact(signed), "a": signed.assessment,
        "first": [a for a in signed.assessment.get("alerts") or []
                  if reads_first(a.get("severity", ""), a.get("id", ""))],
        "snapshot": json.dumps(signed.assessment, indent=2, ensure_ascii=False),
        "addenda": addenda(db, signed.id), "draft": draft, "addendum_error": error,
        "banner": banner_of(db, episode.patient, dt.date.today(), episode.id)},
        status_code=status_code)


@router.get("/episodes/{episode_id}/signed/{signed_id}", name="assessments.signed")
def signed_snapshot(request: Request, db: DbSession, episode: Reading, note: Audited,
                    signed_id: RowId) -> Response:
    signed = signed_of(db, episode, signed_id)
    note.detail["signed_assessment_id"] = signed.id
    return _page(request, db, episode, signed)


@router.post("/episodes/{episode_id}/signed/{signed_id}/addenda", name="assessments.addendum")
def addendum(request: Request, db: DbSession, actor: CurrentActor, episode: Signing,
             note: Audited, signed_id: RowId, form: SubmittedForm) -> Response:
    """Signs an addendum under the assessment; the assessment itself stays as signed."""
    signed = signed_of(db, episode, signed_id)
    text = form.get("text")
    text = text if isinstance(text, str) else ""
    try:
        added = add_addendum(db, signed.id, text, actor.id)
    except (RecordError, NotFound) as error:
        db.rollback()
        message = error.problems[0][1] if isinstance(error, RecordError) else str(error)
        note.detail["outcome"] = "invalid"
        return _page(request, db, episode, signed_of(db, episode, signed_id), text, message, 422)
    note.detail.update(signed_assessment_id=signed.id, addendum_id=added.id)
    request.state.session.say("Addendum signed.")
    return RedirectResponse(f"/episodes/{episode.id}/signed/{signed.id}#addenda",
                            status_code=303)

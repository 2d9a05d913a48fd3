"""A signed assessment opened as it was signed: the stored snapshot, not a new assessment."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import Response

from sijcare.stops import reads_first
from sijcare.store import Episode, SignedAssessment, seal_intact
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Permission
from sijcare.web.auth.scope import RowId, episode_scope
from sijcare.web.deps import DbSession
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Reading = Annotated[Episode, Depends(episode_scope(Permission.clinical_read))]


@router.get("/episodes/{episode_id}/signed/{signed_id}", name="assessments.signed")
def signed_snapshot(request: Request, db: DbSession, episode: Reading, note: Audited,
                    signed_id: RowId) -> Response:
    signed = db.get(SignedAssessment, signed_id)
    if signed is None or signed.episode_id != episode.id:
        raise HTTPException(404, "No such signed assessment in this episode.")
    note.detail["signed_assessment_id"] = signed.id
    return render(request, "clinic/records/signed.html", {
        "episode": episode, "patient": episode.patient, "signed": signed,
        "intact": seal_intact(signed), "a": signed.assessment,
        "first": [a for a in signed.assessment.get("alerts") or []
                  if reads_first(a.get("severity", ""), a.get("id", ""))],
        "snapshot": json.dumps(signed.assessment, indent=2, ensure_ascii=False)})

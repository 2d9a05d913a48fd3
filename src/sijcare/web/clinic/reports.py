"""An episode's printable reports: the episode report, a prior-authorisation packet and a
signed assessment on the clinic's letterhead with its addenda (PDF).

Both read patient data, so both go through the episode scope (clinicians of the patient's
clinic) and are audited like the episode page, as exports: the file leaves the app.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.responses import Response

from sijcare.reports.pdf import episode_report, prior_auth_report, signed_report
from sijcare.store.addenda import addenda
from sijcare.store.audit import EXPORT
from sijcare.store.models import Episode
from sijcare.store.users import signer_name
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Permission
from sijcare.web.auth.scope import RowId, episode_scope
from sijcare.web.clinic.letterhead import letterhead
from sijcare.web.clinic.signed import signed_of
from sijcare.web.deps import DbSession

router = APIRouter(include_in_schema=False)
Reading = Annotated[Episode, Depends(episode_scope(Permission.clinical_read))]
Name = Annotated[str, Query(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]


def _pdf(pdf: bytes, filename: str) -> Response:
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/episodes/{episode_id}/report.pdf", name="episodes.report")
def episode_pdf(db: DbSession, episode: Reading, note: Audited) -> Response:
    note.action = EXPORT
    note.detail["report"] = "episode"
    return _pdf(episode_report(db, episode.id).pdf, f"episode-{episode.id}.pdf")


@router.get("/episodes/{episode_id}/prior-auth.pdf", name="episodes.prior_auth")
def prior_auth_pdf(db: DbSession, episode: Reading, note: Audited, option: Name | None = None,
                   policy: Name = "medicare", as_of: dt.date | None = None) -> Response:
    """`option` is checked here, after the episode scope, so a refusal is never a 422."""
    note.action = EXPORT
    note.detail.update(report="prior_auth", option=option, policy=policy,
                       as_of=as_of.isoformat() if as_of else None)
    if option is None:
        raise HTTPException(422, "option: choose the treatment to request on the episode page")
    try:
        report = prior_auth_report(db, episode.id, option, policy, as_of)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    return _pdf(report.pdf, f"prior-auth-{episode.id}-{option}.pdf")


@router.get("/episodes/{episode_id}/signed/{signed_id}/assessment.pdf",
            name="assessments.signed_pdf")
def signed_pdf(request: Request, db: DbSession, episode: Reading, note: Audited,
               signed_id: RowId) -> Response:
    """The signed assessment as the clinic sends it: letterhead, signer, addenda."""
    note.action = EXPORT
    signed = signed_of(db, episode, signed_id)
    note.detail.update(report="signed_assessment", signed_assessment_id=signed.id)
    report = signed_report(signed, episode.patient, signer_name(signed.signer),
                           addenda=[(a, sealed, signer_name(a.signer))
                                    for a, sealed in addenda(db, signed.id)],
                           letterhead=letterhead(request))
    return _pdf(report.pdf, f"signed-assessment-{signed.id}.pdf")

"""Episodes: one episode, its assessment as of a day, and signing that assessment."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from starlette.responses import Response

from sijcare.engine import DEFAULT_POLICY
from sijcare.model import Assessment
from sijcare.store import Episode, sign_assessment
from sijcare.web.api.idempotency import Idempotent
from sijcare.web.api.policies import Policy
from sijcare.web.api.schemas import EpisodeOut, SignatureIn, SignedOut
from sijcare.web.as_of import AsOf, day_of
from sijcare.web.assessing import CaseProblems, assess_episode, fingerprint
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Permission
from sijcare.web.auth.scope import episode_scope
from sijcare.web.deps import CurrentActor, DbSession

router = APIRouter(prefix="/api/v1/episodes", tags=["episodes"])
Reading = Annotated[Episode, Depends(episode_scope(Permission.clinical_read))]
Signing = Annotated[Episode, Depends(episode_scope(Permission.assessment_sign))]


def _assessment(db: DbSession, episode: Episode, policy: str, as_of: date) -> Assessment:
    try:
        return assess_episode(db, episode.id, policy, as_of)
    except CaseProblems as error:
        raise HTTPException(409, {"problems": error.problems}) from None


@router.get("/{episode_id}", response_model=EpisodeOut)
def get_episode(episode: Reading) -> EpisodeOut:
    return EpisodeOut.model_validate(episode)


@router.get("/{episode_id}/assessment", response_model=Assessment,
            responses={409: {"description": "The record does not make a valid case."}})
def episode_assessment(db: DbSession, episode: Reading, note: Audited,
                       policy: Policy = DEFAULT_POLICY, as_of: AsOf = None) -> Response:
    """The assessment as of a day (default today, never a future day: 422); its ETag is what
    signing asks for."""
    as_of = day_of(as_of)
    note.detail.update(policy=policy, as_of=as_of.isoformat())
    assessment = _assessment(db, episode, policy, as_of)
    return Response(assessment.model_dump_json(), media_type="application/json",
                    headers={"etag": f'"{fingerprint(assessment)}"'})


@router.post("/{episode_id}/signatures", response_model=SignedOut, status_code=201,
             responses={409: {"description": "The assessment changed since it was read."}})
def sign(db: DbSession, actor: CurrentActor, episode: Signing, note: Audited,
         body: SignatureIn, write: Idempotent) -> SignedOut:
    """Sign the assessment as of `as_of`, only if it is still the one whose ETag is `seen`."""
    assessment = _assessment(db, episode, body.policy, day_of(body.as_of, "body"))
    if fingerprint(assessment) != body.seen.strip('"'):
        raise HTTPException(409, "The assessment changed since it was read; read it again.")
    signed = sign_assessment(db, episode.id, assessment, actor.id)
    note.detail.update(signed_assessment_id=signed.id, stage=signed.stage)
    return write.answer(SignedOut.model_validate(signed))

"""The episode page (timeline and current assessment) and signing the assessment."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from sijcare import decision
from sijcare.engine import DEFAULT_POLICY
from sijcare.knowledge import load_knowledge
from sijcare.labels import located
from sijcare.store import (
    VOIDABLE_KINDS,
    Episode,
    EpisodeRecords,
    NotFound,
    RecordError,
    SignedAssessment,
    User,
    load_episode_records,
    seal_intact,
    sign_assessment,
    void_record,
)
from sijcare.store.addenda import addenda
from sijcare.store.follow_up import answered_outside
from sijcare.store.patients import default_policy
from sijcare.store.recent import note_opened
from sijcare.web.as_of import AsOf, day_of
from sijcare.web.assessing import (
    CaseProblems,
    assess_records,
    case_and_assessment,
    fingerprint,
)
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Permission
from sijcare.web.auth.scope import RowId, episode_scope
from sijcare.web.clinic.banner import banner
from sijcare.web.clinic.chart_cache import chart_tag, drawn, matches
from sijcare.web.clinic.course_chart import course_chart
from sijcare.web.clinic.forms import record_forms
from sijcare.web.clinic.letterhead import letterhead, note_facts
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm, end_reads
from sijcare.web.middleware.headers import REVALIDATE
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Reading = Annotated[Episode, Depends(episode_scope(Permission.clinical_read))]
Signing = Annotated[Episode, Depends(episode_scope(Permission.assessment_sign))]
Writing = Annotated[Episode, Depends(episode_scope(Permission.clinical_write))]
ChartWidth = Literal["wide", "narrow"]  # narrow: for phones, the same text size on 390 px
LIST_KINDS = ("imaging", "care_course", "block", "procedure")
# Built once (building costs more than running it). The signed snapshots are read too, to
# check each seal: a signature whose snapshot no longer matches its hash is shown as altered.
SIGNATURES = (select(SignedAssessment, User.username)
              .join(User, User.id == SignedAssessment.signer_id)
              .where(SignedAssessment.episode_id == bindparam("episode_id"))
              .order_by(SignedAssessment.signed_at.desc()))


def known_policy(policy: str) -> str:
    return policy if policy in load_knowledge().policies else DEFAULT_POLICY


def signatures(db: Session, episode_id: int) -> list[tuple[SignedAssessment, bool, str]]:
    """The episode's signatures, newest first: each with whether its seal is still intact
    and who signed it."""
    return [(signed, seal_intact(signed), signer)
            for signed, signer in db.execute(SIGNATURES, {"episode_id": episode_id})]


def _decision(records: EpisodeRecords, policy: str, as_of: date) -> dict[str, Any]:
    """The assessment with the page's reading of it (summary band, worded options)."""
    try:
        case, assessment = case_and_assessment(records, policy, as_of)
    except CaseProblems as error:
        return {"assessment": None, "case_problems": [located(p) for p in error.problems],
                "seen": ""}
    views = decision.options(assessment, case)
    return {"assessment": assessment, "case_problems": [], "options": views,
            "summary": decision.summary(assessment, case, views),
            "seen": fingerprint(assessment), "case": case}


def _with_banner(episode: Episode, as_of: date, decided: dict[str, Any]) -> dict[str, Any]:
    """The decision's context with the clinical banner drawn from the same case."""
    assessment = decided["assessment"]
    return {**decided, "banner": banner(episode.patient, as_of, decided.get("case"),
                                        assessment.stage if assessment else None)}


def _page(request: Request, db: Session, episode: Episode, records: EpisodeRecords,
          policy: str, as_of: date, notice: str | None = None, status_code: int = 200,
          void_error: tuple[str, int, str] | None = None) -> Response:
    """The timeline and the assessment both come from `records`, read once per request;
    the reads end before the engine and the template run (`end_reads`)."""
    signed = signatures(db, episode.id)
    end_reads(db)
    decided = _decision(records, policy, as_of)
    assessment = decided["assessment"]
    return render(request, "clinic/episodes/show.html", {
        "episode": episode, "patient": episode.patient, "policy": policy,
        "policy_name": load_knowledge().policies[policy].name, "as_of": as_of,
        "timeline": records.timeline(), **_with_banner(episode, as_of, decided),
        "answered": answered_outside(records, assessment.follow_up, as_of) if assessment
        else {},
        "signatures": signed, "forms": record_forms(),
        "list_kinds": LIST_KINDS, "notice": notice, "void_error": void_error},
        status_code=status_code)


@router.get("/episodes/{episode_id}", name="episodes.view")
def episode_page(request: Request, db: DbSession, actor: CurrentActor, episode: Reading,
                 note: Audited, policy: str | None = None, as_of: AsOf = None) -> Response:
    policy = known_policy(policy or default_policy(episode.patient))
    as_of = day_of(as_of)
    note.detail.update(policy=policy, as_of=as_of.isoformat())
    note_opened(db, actor.id, episode.patient_id)
    return _page(request, db, episode, load_episode_records(db, episode.id), policy, as_of)


@router.get("/episodes/{episode_id}/course-chart.svg", name="episodes.course_chart")
def course_chart_image(request: Request, db: DbSession, episode: Reading, note: Audited,
                       as_of: AsOf = None, width: ChartWidth = "wide") -> Response:
    """The episode page's course chart, drawn in a request of its own so that the page's text
    does not wait for the drawing, once per (episode, day, last record): a repeat view with
    the chart's ETag is a 304. The courses it shades do not depend on the policy."""
    as_of = day_of(as_of)
    note.detail.update(as_of=as_of.isoformat())
    records = load_episode_records(db, episode.id)
    end_reads(db)
    tag = chart_tag(records, as_of, width)
    cached = {"etag": tag, "cache-control": REVALIDATE}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=cached)

    def draw() -> bytes | None:
        try:
            _, assessment = case_and_assessment(records, default_policy(episode.patient), as_of)
        except CaseProblems:
            assessment = None
        chart = course_chart(records.timeline(), as_of, assessment)
        return chart.svg(narrow=width == "narrow") if chart is not None else None

    svg = drawn(tag, draw)
    if svg is None:  # nothing scored (the page then links no chart): nothing to draw
        return Response(status_code=204)
    return Response(svg, media_type="image/svg+xml", headers=cached)


@router.get("/episodes/{episode_id}/note", name="episodes.note")
def visit_note(request: Request, db: DbSession, episode: Reading, note: Audited,
               policy: str | None = None, as_of: AsOf = None) -> Response:
    """One printable page for a referrer: stage, why, alerts, the next step, the signer."""
    policy = known_policy(policy or default_policy(episode.patient))
    as_of = day_of(as_of)
    note.detail.update(policy=policy, as_of=as_of.isoformat())
    records = load_episode_records(db, episode.id)
    signed = next((s for s in signatures(db, episode.id)
                   if s[1] and s[0].policy == policy and s[0].as_of == as_of), None)
    added = addenda(db, signed[0].id) if signed else []
    signer = db.get(User, signed[0].signer_id) if signed else None
    end_reads(db)
    decided = _decision(records, policy, as_of)
    return render(request, "clinic/episodes/note.html", {
        "episode": episode, "patient": episode.patient, "policy": policy,
        "policy_name": load_knowledge().policies[policy].name, "as_of": as_of,
        "signed": signed, "letterhead": letterhead(request), "addenda": added,
        "signer": signer,
        **_with_banner(episode, as_of, decided), "facts": note_facts(decided.get("case"))})


@router.post("/episodes/{episode_id}/sign", name="assessments.sign")
def sign(request: Request, db: DbSession, actor: CurrentActor, episode: Signing,
         note: Audited, policy: Annotated[str, Form()], as_of: Annotated[date, Form()],
         seen: Annotated[str, Form()]) -> Response:
    """Signs what the engine says now, and only if it is what the clinician was shown."""
    as_of = day_of(as_of, "body")
    policy, records = known_policy(policy), load_episode_records(db, episode.id)
    try:
        assessment = assess_records(records, policy, as_of)
    except CaseProblems:
        return _page(request, db, episode, records, policy, as_of, "Nothing was signed: the record "
                     "cannot be assessed.", 422)
    if fingerprint(assessment) != seen:
        note.detail["outcome"] = "changed"
        return _page(request, db, episode, records, policy, as_of, "Nothing was signed: the "
                     "record changed since this page was opened. Review the assessment below and "
                     "sign again.", 409)
    signed = sign_assessment(db, episode.id, assessment, actor.id)
    note.detail.update(signed_assessment_id=signed.id, stage=signed.stage, policy=policy)
    request.state.session.say("Assessment signed.")  # the cookie holds no clinical data
    query = urlencode({"policy": policy, "as_of": as_of.isoformat()})
    return RedirectResponse(f"/episodes/{episode.id}?{query}#signatures", status_code=303)


@router.post("/episodes/{episode_id}/records/{kind}/{record_id}/void", name="records.void")
def void(request: Request, db: DbSession, actor: CurrentActor, episode: Writing, note: Audited,
         kind: str, record_id: RowId, raw: SubmittedForm) -> Response:
    """Marks one record "entered in error" from today on; a reason is required."""
    note.detail.update(kind=kind, record_id=record_id)
    if kind not in VOIDABLE_KINDS:
        raise HTTPException(404, f"No record kind '{kind}'.")
    reason = raw.get("reason")
    try:
        void_record(db, episode.id, kind, record_id, actor.id,
                    reason if isinstance(reason, str) else "", date.today())
    except NotFound:
        raise HTTPException(404, "No such record in this episode.") from None
    except RecordError as error:
        db.rollback()
        note.detail["outcome"] = "invalid"
        path, message = error.problems[0]
        records, today = load_episode_records(db, episode.id), date.today()
        if path == "reason":
            return _page(request, db, episode, records, DEFAULT_POLICY, today, status_code=422,
                         void_error=(kind, record_id, message))
        return _page(request, db, episode, records, DEFAULT_POLICY, today,
                     f"Nothing was changed: {message}.", 422)
    request.state.session.say("Record marked as entered in error.")  # no clinical data
    return RedirectResponse(f"/episodes/{episode.id}#timeline", status_code=303)

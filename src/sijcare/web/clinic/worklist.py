"""The clinic worklist: open follow-up points across the clinic's patients, sending links, and
what patients wrote with their answers.

Rows come from the stored schedule (`store.follow_up.worklist`, one query); a clinician opens
the episode from the patient's name or sends the point's questionnaire link in one click
(by email through the outbox, or shown once to hand over in the clinic). Above them, the
comments patients wrote in the last 30 days, flagged ones first (`store.patient_comments`):
an answered point leaves the list, its comment must not leave with it unread.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from sijcare.labels import questionnaire
from sijcare.notify.delivery import link_deliveries, mail_trouble
from sijcare.notify.reminders import Mailing, send_link
from sijcare.store import Episode, NotFound, RecordError, User, worklist
from sijcare.store.follow_up import OPEN_STATUSES, POINT_ORDER, response_rates
from sijcare.store.models import (
    FollowUpPoint,
    Membership,
    QuestionnaireLink,
    ReminderContact,
    utcnow,
)
from sijcare.store.patient_comments import RECENT_DAYS, recent_comments
from sijcare.store.questionnaires import issue_link
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import RowId, clinic_scope, episode_scope
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm
from sijcare.web.strict import Blank, IdFilter
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(clinic_scope(Permission.clinical_read))]
Writing = Annotated[Episode, Depends(episode_scope(Permission.clinical_write))]
PROCEDURE_KINDS = ("steroid_injection", "prolotherapy", "prp", "rfa_conventional",
                   "rfa_cooled", "mis_fusion")
# The filters take the listed values only (blank: any): they reach the SQL and the audit entry.
PointFilter = Annotated[Literal[POINT_ORDER] | None, Blank, Query()]  # type: ignore[valid-type]
KindFilter = Annotated[Literal[PROCEDURE_KINDS] | None, Blank, Query()]  # type: ignore[valid-type]
MAIL_TROUBLE_WINDOW = timedelta(hours=1)  # a refusal older than this says nothing of now
StatusFilter = Annotated[Literal[OPEN_STATUSES] | None, Blank, Query()]  # type: ignore[valid-type]


def mailing(request: Request) -> Mailing:
    settings = request.app.state.settings
    return Mailing(settings.secret_key, settings.public_url, settings.clinic_name,
                   settings.questionnaire_days)


def _clinicians(db: Session, actor: Actor) -> list[tuple[int, str]]:
    rows = db.execute(select(User.id, User.username).join(Membership).where(
        Membership.clinic_id.in_(actor.clinic_ids), User.role == "clinician")
        .distinct().order_by(User.username))
    return [(row.id, row.username) for row in rows]


def _page(request: Request, db: Session, actor: Actor, filters: dict[str, str],
          notice: str | None = None, status_code: int = 200) -> Response:
    today = date.today()
    clinician = filters.get("clinician", "")
    status = filters.get("status", "")
    items = worklist(db, actor.clinic_ids, today, point=filters.get("point") or None,
                     procedure_kind=filters.get("kind") or None,
                     clinician_id=int(clinician) if clinician else None,
                     statuses=(status,) if status in OPEN_STATUSES else OPEN_STATUSES)
    patients = {item.patient_id for item in items}
    emails = {c.patient_id: c for c in db.scalars(select(ReminderContact).where(
        ReminderContact.patient_id.in_(patients)))} if patients else {}
    comments = recent_comments(db, actor.clinic_ids, utcnow() - timedelta(days=RECENT_DAYS))
    return render(request, "clinic/worklist.html", {
        "items": items, "today": today, "filters": filters, "contacts": emails,
        "deliveries": link_deliveries(db, [item.point_id for item in items]),
        "comments": comments, "comment_days": RECENT_DAYS,
        "points": POINT_ORDER, "kinds": PROCEDURE_KINDS, "statuses": OPEN_STATUSES,
        "clinicians": _clinicians(db, actor), "notice": notice}, status_code=status_code)


@router.get("/worklist", name="worklist.view")
def worklist_page(request: Request, db: DbSession, actor: Reader, note: Audited,
                  point: PointFilter = None, kind: KindFilter = None,
                  clinician: IdFilter = None, status: StatusFilter = None) -> Response:
    note.object_type = "worklist"
    filters = {"point": point or "", "kind": kind or "", "clinician": str(clinician or ""),
               "status": status or ""}
    note.detail.update({k: v for k, v in filters.items() if v})
    return _page(request, db, actor, filters)


def _point(db: Session, episode: Episode, point_id: int) -> FollowUpPoint:
    point = db.get(FollowUpPoint, point_id)
    if point is None or point.episode_id != episode.id:
        raise HTTPException(404, "No such follow-up point in this episode.")
    return point


@router.post("/episodes/{episode_id}/follow-up/{point_id}/send", name="worklist.send")
def send(request: Request, db: DbSession, actor: CurrentActor, episode: Writing, note: Audited,
         point_id: RowId, raw: SubmittedForm) -> Response:
    """Email the point's questionnaire link now (saving the address typed with it)."""
    point = _point(db, episode, point_id)
    note.detail.update(point=point.key, action="send_link")
    email = raw.get("email")
    try:
        link = send_link(db, point.id, actor.id, mailing(request),
                         email if isinstance(email, str) else None)
    except (RecordError, NotFound) as error:
        db.rollback()
        note.detail["outcome"] = "invalid"
        return _page(request, db, actor, {}, f"No link was sent: {error}.", 422)
    request.state.session.say(_queued(db, link))  # no patient data
    return RedirectResponse("/worklist", status_code=303)


def _queued(db: Session, link: QuestionnaireLink) -> str:
    """What "send" did: the email is queued, not delivered, and why it may stay so."""
    which = questionnaire(link.point).capitalize()
    if why := mail_trouble(db, utcnow() - MAIL_TROUBLE_WINDOW):
        return (f"{which} link queued, not delivered yet: the last email could not be sent "
                f"({why}). It is retried automatically; the worklist shows when it is sent.")
    return (f"{which} link queued: it goes out within a minute, not delivered yet; the "
            "worklist shows when it is sent.")


@router.post("/episodes/{episode_id}/follow-up/{point_id}/link", name="worklist.link")
def hand_over(request: Request, db: DbSession, actor: CurrentActor, episode: Writing,
              note: Audited, point_id: RowId) -> Response:
    """A new link shown once (for a patient in the clinic, or to send another way)."""
    point = _point(db, episode, point_id)
    note.detail.update(point=point.key, action="show_link")
    settings = request.app.state.settings
    try:
        link, token = issue_link(db, point.id, actor.id, settings.secret_key,
                                 settings.questionnaire_days)
    except RecordError as error:
        db.rollback()
        return _page(request, db, actor, {}, f"No link was made: {error}.", 422)
    return render(request, "clinic/worklist_link.html", {
        "episode": episode, "point": point, "link": link,
        "url": f"{settings.public_url.rstrip('/')}/q/{token}"})


@router.get("/worklist/response-rates", name="worklist.rates")
def rates_page(request: Request, db: DbSession, actor: Reader, note: Audited) -> Response:
    note.object_type = "response_rates"
    today = date.today()
    return render(request, "clinic/worklist_rates.html", {
        "rates": response_rates(db, actor.clinic_ids, today), "today": today})

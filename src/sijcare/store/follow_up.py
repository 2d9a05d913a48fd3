"""Each episode's follow-up schedule, kept in `follow_up_points` so a clinic worklist is one query.

The schedule is the engine's `follow_up` (ENGINE-RULES, "Follow-up schedule"), never a copy of
its rules. It stays current because it is re-derived, not maintained: any flush that adds or
changes what it is built from (a procedure or a PROM, or an entered-in-error mark on one)
marks that episode, and before the transaction commits its points are derived again from its
case and written in the same transaction (`store/derived.py`). A point's `done` is
stored; whether an open point is upcoming, due or missed depends only on its window and the
day it is read, so it is computed then (`status_on`) and never goes stale overnight.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session

from sijcare.engine.facts import Facts
from sijcare.engine.follow_up import follow_up
from sijcare.knowledge import load_knowledge
from sijcare.model.assessment import FollowUpPoint as Point
from sijcare.store.derived import keep_current
from sijcare.store.episode_records import EpisodeRecords, load_episode_records
from sijcare.store.models import (
    Clinic,
    Episode,
    FollowUpPoint,
    Patient,
    ProcedureRecord,
    PromRecord,
    QuestionnaireLink,
    User,
    utcnow,
)

SCHEDULE_KINDS = ("procedure", "prom")  # all the schedule is built from


def point_key(point: str, procedure_id: int | None) -> str:
    """A point's stable name within its episode: "6m", or "2w:17" for procedure 17's."""
    return point if procedure_id is None else f"{point}:{procedure_id}"


def status_on(point: FollowUpPoint, today: dt.date) -> str:
    """done (done_early, done_late: answered by link outside the window), upcoming, due or
    missed on `today` (the engine's rule, on the stored window)."""
    if point.done:
        return f"done_{point.answered_timing}" if point.answered_timing else "done"
    if today < point.window_from:
        return "upcoming"
    return "due" if today <= point.window_to else "missed"


def _schedule(records: EpisodeRecords, today: dt.date) -> list[dict[str, Any]]:
    """The engine's points for the episode as everything recorded so far shows it."""
    episode = records.episode
    if episode is None:
        return []
    rows = [record.row for stored in records.by_kind.values() for record in stored]
    as_of = max([today, *(row.recorded_on for row in rows)])
    try:
        case = records.case_as_of(as_of)
    except ValueError:  # a day before the birth date: nothing can be scheduled
        return []
    entries = follow_up(Facts(case, load_knowledge()))
    points = []
    for entry, (key, procedure) in zip(entries, _keyed(records, entries, as_of), strict=True):
        anchored = procedure if entry.anchor == "procedure" else None
        points.append({
            "key": key, "point": entry.point, "anchor": entry.anchor,
            "procedure_id": anchored.id if anchored else None,
            "procedure_date": entry.procedure_date, "procedure_kind": entry.procedure_kind,
            "clinician_id": procedure.recorded_by if procedure else None,
            "due": entry.due, "window_from": entry.window[0], "window_to": entry.window[1],
            "instruments": list(entry.instruments), "done": entry.status == "done",
            "answered_timing": None,
            "clinic_id": episode.patient.clinic_id, "episode_id": episode.id,
        })
    return points


def _keyed(records: EpisodeRecords, entries: Sequence[Point], as_of: dt.date
           ) -> list[tuple[str, ProcedureRecord | None]]:
    """Each of the engine's points with its key in the episode and the procedure whose
    clinician follows it: its own, or for a treatment-start point the first procedure."""
    procedures = [r.row for r in records.by_kind["procedure"]
                  if r.row.voided_on is None or as_of < r.row.voided_on]
    keyed: list[tuple[str, ProcedureRecord | None]] = []
    for entry in entries:
        if entry.anchor == "procedure":
            taken = {key for key, _ in keyed}
            procedure = next((row for row in procedures if row.date == entry.procedure_date
                              and row.kind == entry.procedure_kind
                              and point_key(entry.point, row.id) not in taken), None)
            keyed.append((point_key(entry.point, procedure.id if procedure else None),
                          procedure))
        else:  # treatment start: the first procedure's clinician follows the course
            keyed.append((entry.point, procedures[0] if procedures else None))
    return keyed


class OutsideAnswer(NamedTuple):
    """A point's questionnaire answered by link outside its window, on `on`."""

    timing: str  # "early" or "late"
    on: dt.date

    @property
    def status(self) -> str:
        return f"Done {self.timing}"

    @property
    def when(self) -> str:
        return (f"answered {self.on.isoformat()}, "
                + ("before the window opened" if self.timing == "early"
                   else "after the window closed"))


def answered_outside(records: EpisodeRecords, entries: Sequence[Point], as_of: dt.date
                     ) -> dict[Point, OutsideAnswer]:
    """The engine's points not done whose questionnaire was answered by link outside the
    window by `as_of`. The engine counts answers inside the window only (responders, done),
    so such a point still reads upcoming, due or missed there; the page says when it was
    answered instead, as the worklist says done early or late."""
    answers = {link.point_key: OutsideAnswer(link.answered_timing, link.used_at.date())
               for link in records.comments if link.answered_timing and link.used_at
               and link.used_at.date() <= as_of}
    return {entry: answers[key] for entry, (key, _) in
            zip(entries, _keyed(records, entries, as_of), strict=True)
            if entry.status != "done" and key in answers}


def refresh_schedule(session: Session, episode_id: int,
                     today: dt.date | None = None) -> list[FollowUpPoint]:
    """Derive the episode's points again and store them: changed points updated in place
    (their ids stay), new ones added, points no longer scheduled removed."""
    records = load_episode_records(session, episode_id, SCHEDULE_KINDS)
    wanted = {p["key"]: p for p in _schedule(records, today or dt.date.today())}
    for key, timing in _answered_outside(session, episode_id).items():
        if key in wanted:  # the engine counts answers inside the window only
            point = wanted[key]
            point["done"], point["answered_timing"] = True, (None if point["done"] else timing)
    stored = {p.key: p for p in session.scalars(
        select(FollowUpPoint).where(FollowUpPoint.episode_id == episode_id))}
    gone = [p.id for key, p in stored.items() if key not in wanted]
    if gone:
        session.execute(delete(FollowUpPoint).where(FollowUpPoint.id.in_(gone)))
    now = utcnow()
    points = []
    for key, values in wanted.items():
        point = stored.get(key) or FollowUpPoint()
        for name, value in values.items():
            setattr(point, name, value)
        point.derived_at = now
        session.add(point)
        points.append(point)
    session.flush()
    return points


def _answered_outside(session: Session, episode_id: int) -> dict[str, str]:
    """Points answered by link outside their window: key -> "early" or "late" (the latest)."""
    rows = session.execute(select(QuestionnaireLink.point_key, QuestionnaireLink.answered_timing)
                           .where(QuestionnaireLink.episode_id == episode_id,
                                  QuestionnaireLink.answered_timing.is_not(None))
                           .order_by(QuestionnaireLink.id))
    return {row.point_key: row.answered_timing for row in rows}


def refresh_schedules(session: Session, episode_ids: Iterable[int],
                      today: dt.date | None = None) -> None:
    for episode_id in sorted(set(episode_ids)):
        refresh_schedule(session, episode_id, today)


def _changed_episodes(session: Session) -> set[int]:
    """Episodes whose procedures or PROMs this flush adds or changes."""
    return {obj.episode_id for obj in (*session.new, *session.dirty)
            if isinstance(obj, (ProcedureRecord, PromRecord))}


keep_current("follow_up", _changed_episodes, refresh_schedules)


# -- the clinic worklist -------------------------------------------------------------------------

UPCOMING_DAYS = 30  # how far ahead the worklist looks for points not yet open
OPEN_STATUSES = ("due", "missed", "upcoming")


class WorkItem(NamedTuple):
    """One open point on the worklist: whose, which, when, and its status today (a tuple: the
    worklist can hold thousands of rows, and a named tuple is built from a row at C speed)."""

    point_id: int
    episode_id: int
    patient_id: int
    family_name: str
    given_name: str
    point: str
    procedure_kind: str | None
    procedure_date: dt.date | None
    due: dt.date
    window_from: dt.date
    window_to: dt.date
    clinician: str | None
    status: str


def worklist(session: Session, clinic_ids: Iterable[int], today: dt.date, *,
             point: str | None = None, procedure_kind: str | None = None,
             clinician_id: int | None = None,
             statuses: Iterable[str] = OPEN_STATUSES) -> list[WorkItem]:
    """The open points of the clinics' patients on `today`: missed (window passed), due (in
    its window) and upcoming (window opens within `UPCOMING_DAYS`), by due date. One query."""
    wanted = set(statuses)
    status = case((FollowUpPoint.window_from > today, "upcoming"),
                  (FollowUpPoint.window_to >= today, "due"), else_="missed")
    query = (select(FollowUpPoint.id, FollowUpPoint.episode_id, Patient.id,
                    Patient.family_name, Patient.given_name, FollowUpPoint.point,
                    FollowUpPoint.procedure_kind, FollowUpPoint.procedure_date,
                    FollowUpPoint.due, FollowUpPoint.window_from, FollowUpPoint.window_to,
                    User.username, status)
             .join(Episode, Episode.id == FollowUpPoint.episode_id)
             .join(Patient, Patient.id == Episode.patient_id)
             .outerjoin(User, User.id == FollowUpPoint.clinician_id)
             .where(FollowUpPoint.clinic_id.in_(list(clinic_ids)),
                    FollowUpPoint.done.is_(False),
                    FollowUpPoint.window_from <= today + dt.timedelta(days=UPCOMING_DAYS))
             .order_by(FollowUpPoint.due, Patient.family_name, FollowUpPoint.id))
    if point:
        query = query.where(FollowUpPoint.point == point)
    if procedure_kind:
        query = query.where(FollowUpPoint.procedure_kind == procedure_kind)
    if clinician_id:
        query = query.where(FollowUpPoint.clinician_id == clinician_id)
    if wanted != set(OPEN_STATUSES):
        query = query.where(status.in_(sorted(wanted)))
    return list(map(WorkItem._make, session.connection().execute(query)))


# -- response rates ------------------------------------------------------------------------------

POINT_ORDER = ("baseline", "2w", "6w", "3m", "6m", "12m", "24m")


@dataclass(frozen=True)
class ResponseRate:
    """One clinic's points of one kind whose window has opened by the day asked about.

    `answered`: done (every questionnaire answered inside the window); `missed`: the window
    closed unanswered; `open`: the window is open and not yet answered. `share_answered` is
    answered / (answered + missed): of the points already settled, the share answered in time.
    """

    clinic_id: int
    clinic: str
    point: str
    due: int
    answered: int
    missed: int

    @property
    def open(self) -> int:
        return self.due - self.answered - self.missed

    @property
    def share_answered(self) -> float | None:
        settled = self.answered + self.missed
        return round(self.answered / settled, 3) if settled else None


def response_rates(session: Session, clinic_ids: Iterable[int],
                   today: dt.date) -> list[ResponseRate]:
    """Due, answered and missed points per clinic and point, in one grouped query."""
    opened = FollowUpPoint.window_from <= today
    missed = and_(FollowUpPoint.done.is_(False), FollowUpPoint.window_to < today)
    rows = session.execute(
        select(FollowUpPoint.clinic_id, Clinic.name, FollowUpPoint.point, func.count(),
               func.sum(case((FollowUpPoint.done, 1), else_=0)),
               func.sum(case((missed, 1), else_=0)))
        .join(Clinic, Clinic.id == FollowUpPoint.clinic_id)
        .where(FollowUpPoint.clinic_id.in_(list(clinic_ids)), opened)
        .group_by(FollowUpPoint.clinic_id, Clinic.name, FollowUpPoint.point))
    rates = [ResponseRate(clinic_id, name, point, due, int(answered or 0), int(late or 0))
             for clinic_id, name, point, due, answered, late in rows]
    order = {point: i for i, point in enumerate(POINT_ORDER)}
    return sorted(rates, key=lambda r: (r.clinic, order.get(r.point, len(order))))

"""Questionnaires by link: a signed, expiring, single-use link for one follow-up point.

The token is `<link id>-<nonce>` signed for the purpose "questionnaire" (`tokens.sign_link`);
only its sha256 is stored, so a copy of the database cannot answer for a patient. A token
that was edited fails its signature before the database is asked; one that was used,
replaced by a newer link, or is past `expires_at` is refused with its reason and no data.
Answers become PROM records marked `patient_reported`, audited with no user as actor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.errors import NotFound, RecordError, problems_of
from sijcare.store.kinds import KINDS
from sijcare.store.models import Episode, FollowUpPoint, PromRecord, QuestionnaireLink, utcnow
from sijcare.store.plausible import CONTROL_IN_TEXT_PROBLEM, control_characters, text_lines
from sijcare.store.users import require_member
from sijcare.tokens import LinkError, check_link, sign_link

PURPOSE = "questionnaire"
DEFAULT_DAYS = 14
COMMENT_MAX = 1000


class LinkRefused(Exception):
    """The link cannot be answered; `reason` is tampered, used, replaced or expired."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class OpenLink:
    """What the questionnaire page may show: a first name and what to ask, nothing else."""

    link: QuestionnaireLink
    first_name: str
    instruments: list[str]
    clinic_id: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session: Session, point_id: int, actor_id: int | None, secret: bytes,
               days: int = DEFAULT_DAYS) -> tuple[QuestionnaireLink, str]:
    """A new link for an open point (earlier unused links for it are replaced); returns the
    row and the token, which is shown or sent once and never stored. `actor_id` None: the
    reminder scheduler."""
    point = session.get(FollowUpPoint, point_id)
    if point is None:
        raise NotFound(f"no follow-up point {point_id}")
    if actor_id is not None:
        require_member(session, actor_id, point.clinic_id)
    if point.done:
        raise RecordError([("point", f"the {point.point} point is already done")])
    now = utcnow()
    session.execute(update(QuestionnaireLink).where(
        QuestionnaireLink.episode_id == point.episode_id,
        QuestionnaireLink.point_key == point.key, QuestionnaireLink.used_at.is_(None),
        QuestionnaireLink.revoked_at.is_(None)).values(revoked_at=now))
    link = QuestionnaireLink(episode_id=point.episode_id, point_key=point.key,
                             point=point.point, instruments=list(point.instruments),
                             token_hash="pending-" + secrets.token_hex(16), issued_at=now,
                             issued_by=actor_id, expires_at=now + dt.timedelta(days=days))
    session.add(link)
    session.flush()
    token = sign_link(secret, PURPOSE, f"{link.id}-{secrets.token_urlsafe(16)}")
    link.token_hash = _hash(token)
    session.flush()
    record_event(session, actor_id, "issue", "questionnaire_link", link.id, point.clinic_id,
                 {"episode_id": point.episode_id, "point": point.key})
    return link, token


def open_link(session: Session, token: str, secret: bytes | Sequence[bytes],
              now: dt.datetime | None = None) -> OpenLink:
    """The link a token names if it may still be answered, else LinkRefused."""
    try:
        check_link(secret, PURPOSE, token)
    except LinkError:
        raise LinkRefused("tampered") from None
    link = session.scalar(select(QuestionnaireLink).where(
        QuestionnaireLink.token_hash == _hash(token)))
    if link is None:
        raise LinkRefused("tampered")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.revoked_at is not None:
        raise LinkRefused("replaced")
    if (now or utcnow()) >= link.expires_at:
        raise LinkRefused("expired")
    episode = session.get(Episode, link.episode_id)
    assert episode is not None  # links are never deleted with their episode
    return OpenLink(link, episode.patient.given_name, list(link.instruments),
                    episode.patient.clinic_id)


def _timing(session: Session, link: QuestionnaireLink, day: dt.date) -> str | None:
    """"early" or "late" when `day` is outside the window of the link's point, else None:
    such answers are kept, and the point is done early or late (`store/follow_up.py`)."""
    point = session.scalar(select(FollowUpPoint).where(
        FollowUpPoint.episode_id == link.episode_id, FollowUpPoint.key == link.point_key))
    if point is None or point.window_from <= day <= point.window_to:
        return None
    return "early" if day < point.window_from else "late"


def answer_link(session: Session, token: str, secret: bytes | Sequence[bytes],
                answers: dict[str, Any], comment: str | None = None,
                now: dt.datetime | None = None) -> list[PromRecord]:
    """Save the patient's answers as PROM records of the episode (patient-reported), dated
    today, and use the link up. `answers` maps an instrument to its value (NRS, PGIC) or its
    list of ODI section answers. RecordError (nothing saved) for missing or invalid answers."""
    now = now or utcnow()
    opened = open_link(session, token, secret, now)
    link, today = opened.link, now.date()
    comment = text_lines(comment or "").strip() or None
    if comment and len(comment) > COMMENT_MAX:
        raise RecordError([("comment", f"at most {COMMENT_MAX} characters")])
    if comment and control_characters(comment, lines=True):
        raise RecordError([("comment", CONTROL_IN_TEXT_PROBLEM)])
    spec = KINDS["prom"]
    forms, problems = [], []
    for instrument in opened.instruments:
        given = answers.get(instrument)
        if given is None or (instrument == "odi" and not any(a is not None for a in given)):
            problems.append((instrument, "please answer this question"))
            continue
        data = {"date": today.isoformat(), "instrument": instrument,
                **({"answers": given} if instrument == "odi" else {"value": given})}
        try:
            forms.append(spec.form.model_validate(data))
        except ValidationError as error:
            problems += [(f"{instrument}.{path}" if path else instrument, message)
                         for path, message in problems_of(error)]
    if problems:
        raise RecordError(problems)
    used = session.execute(update(QuestionnaireLink).where(
        QuestionnaireLink.id == link.id, QuestionnaireLink.used_at.is_(None)).values(
        used_at=now, comment=comment, answered_timing=_timing(session, link, today))
        .execution_options(synchronize_session="fetch"))
    if used.rowcount != 1:  # answered at the same moment in another request
        raise LinkRefused("used")
    rows = []
    for form in forms:
        row = spec.build(form, episode_id=link.episode_id, recorded_on=today, recorded_by=None)
        row.patient_reported = True
        session.add(row)
        rows.append(row)
    session.flush()
    for row in rows:
        record_event(session, None, "create", "prom", row.id, opened.clinic_id,
                     {"episode_id": link.episode_id, "via": "questionnaire_link",
                      "link_id": link.id})
    return rows

"""Patients' comments across a clinic: what patients wrote with their questionnaires by link.

A comment is kept on the link it was written with (`questionnaire_links.comment`); the point it
answered is then done and leaves the worklist, so without this list a comment such as "new
numbness since Tuesday" would wait on the episode's timeline until someone opened it. The
worklist shows the recent ones, those with a listed word first (`sijcare.patient_words`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sijcare.patient_words import flagged_words
from sijcare.store.models import Episode, Patient, QuestionnaireLink

RECENT_DAYS = 30  # how far back the worklist lists comments


@dataclass(frozen=True)
class PatientComment:
    """One comment, whose it is and when it was written (naive UTC), with the words found."""

    link_id: int
    episode_id: int
    family_name: str
    given_name: str
    point: str
    written_at: dt.datetime
    text: str | None
    flags: tuple[str, ...]
    timing: str | None  # "early", "late": answered outside the point's window


def recent_comments(session: Session, clinic_ids: Iterable[int],
                    since: dt.datetime) -> list[PatientComment]:
    """The comments the clinics' patients wrote since `since`, and answers given outside a
    point's window (with or without a comment): flagged first, newest first."""
    rows = session.execute(
        select(QuestionnaireLink.id, QuestionnaireLink.episode_id, Patient.family_name,
               Patient.given_name, QuestionnaireLink.point, QuestionnaireLink.used_at,
               QuestionnaireLink.comment, QuestionnaireLink.answered_timing)
        .join(Episode, Episode.id == QuestionnaireLink.episode_id)
        .join(Patient, Patient.id == Episode.patient_id)
        .where(Patient.clinic_id.in_(list(clinic_ids)),
               or_(QuestionnaireLink.comment.is_not(None),
                   QuestionnaireLink.answered_timing.is_not(None)),
               QuestionnaireLink.used_at >= since)
        .order_by(QuestionnaireLink.used_at.desc(), QuestionnaireLink.id.desc()))
    comments = [PatientComment(*row[:7], flagged_words(row.comment or ""), row.answered_timing)
                for row in rows]
    return sorted(comments, key=lambda c: not c.flags)  # stable: newest first within each

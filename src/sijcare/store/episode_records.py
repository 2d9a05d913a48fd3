"""An episode's records read once; its timeline and its `Case` of any day both come from that read.

The episode page needs the timeline and the case together, and reading them separately read
every record twice. `load_episode_records` reads each record table once (child rows joined
into the same query) and everything after that is done in memory. `list_timeline` and
`case_as_of` are this loader for callers that need only one of the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache, cached_property
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session, joinedload

from sijcare.labels import inline, questionnaire, words
from sijcare.model.case import Case, UnreviewedFact
from sijcare.model.case import Patient as CasePatient
from sijcare.patient_words import flagged_words
from sijcare.store.errors import NotFound
from sijcare.store.forms import dump
from sijcare.store.kinds import KINDS, Kind
from sijcare.store.models import (
    Episode,
    EpisodeNote,
    ImportedRecord,
    NoneRecord,
    Patient,
    QuestionnaireLink,
    RecordRow,
    User,
)
from sijcare.store.outcomes import relief_as_of
from sijcare.store.unreviewed import stopping_facts, with_stops


@dataclass(frozen=True)
class TimelineEntry:
    """One record as the episode's timeline shows it; `data` is the form it was saved from."""

    kind: str
    id: int
    date: dt.date
    summary: str
    data: dict[str, Any]
    recorded_on: dt.date
    recorded_by: int | None
    voided_on: dt.date | None = None  # marked "entered in error" from this day on
    void_reason: str | None = None
    created_at: dt.datetime | None = None  # when it was entered (naive UTC)
    author: str | None = None  # the username of `recorded_by`

    def later_than(self, as_of: dt.date) -> bool:
        """Recorded after `as_of`: not known on that day (greyed on a past day's page)."""
        return self.recorded_on > as_of


NOTE = "note"  # the timeline kind of a free-text note
COMMENT = "patient_comment"  # the patient's own words, written with a questionnaire by link


VOIDED = " (entered in error)"
PATIENT_REPORTED = " (patient-reported, by questionnaire link)"


def known_on(row: RecordRow, as_of: dt.date) -> bool:
    """Recorded by `as_of` and not yet marked entered in error then (what was known that day)."""
    return row.recorded_on <= as_of and (row.voided_on is None or as_of < row.voided_on)


def case_patient_id(patient: Patient) -> str:
    """The id a Case (and so an Assessment) names the patient by."""
    return patient.external_id or f"patient-{patient.id}"


@dataclass(frozen=True)
class StoredRecord:
    """A record row of one kind; its form is validated on first use, so only once per read and
    only for records something asks about (a case of an early day never reads later records)."""

    spec: Kind
    row: RecordRow

    @property
    def date(self) -> dt.date:
        return getattr(self.row, self.spec.dated_by)

    @cached_property
    def form(self) -> Any:
        return self.spec.form.model_validate(self.spec.load(self.row))

    def entry(self, procedures: Mapping[int, str]) -> TimelineEntry:
        """The timeline's line; `procedures` names the episode's procedures for outcomes."""
        row = self.row
        reported = PATIENT_REPORTED if getattr(row, "patient_reported", False) else ""
        # the one line a person reads (timeline, packet, API): codes as their labels
        summary = words(self.spec.summary_among(self.form, procedures)) + reported + (
            VOIDED if row.voided_on else "")
        return TimelineEntry(self.spec.name, row.id, self.date, summary, dump(self.form),
                             row.recorded_on, row.recorded_by, row.voided_on, row.void_reason,
                             row.created_at)


def _none_entry(none: NoneRecord) -> TimelineEntry:
    summary = f"None recorded: {none.kind.replace('_', ' ')}" + (VOIDED if none.voided_on else "")
    return TimelineEntry(none.kind, none.id, none.recorded_on, summary, {"none": True},
                         none.recorded_on, none.recorded_by, none.voided_on, none.void_reason,
                         none.created_at)


def _note_entry(note: EpisodeNote) -> TimelineEntry:
    return TimelineEntry(NOTE, note.id, note.recorded_on, "Clinical note", {"text": note.text},
                         note.recorded_on, note.recorded_by, created_at=note.created_at)


def _comment_entry(link: QuestionnaireLink) -> TimelineEntry:
    """The patient's comment as written (shown escaped), with the listed words it contains,
    and whether the answers came before or after the point's window; dated the day it was
    written, like the answers it came with."""
    assert link.used_at is not None  # only answered links have a comment or a timing
    flags = list(flagged_words(link.comment or ""))
    timing = (f"{questionnaire(link.point).capitalize()} answered {link.answered_timing}"
              if link.answered_timing else "")
    summary = ((f"{timing}; patient's comment" if timing else "Patient's comment")
               if link.comment else timing) + PATIENT_REPORTED + (
        f", flagged: mentions {', '.join(flags)}" if flags else "")
    return TimelineEntry(COMMENT, link.id, link.used_at.date(), summary,
                         {"text": link.comment, "point": link.point, "flags": flags,
                          "timing": link.answered_timing},
                         link.used_at.date(), None, created_at=link.used_at)


@dataclass(frozen=True)
class EpisodeRecords:
    """Every record of one episode as read at one moment.

    `episode` is None when there is no such episode: its timeline is then empty and its case
    raises NotFound, as `list_timeline` and `case_as_of` always did.
    """

    episode_id: int
    episode: Episode | None
    by_kind: dict[str, list[StoredRecord]]  # oldest first: by the date it describes, then id
    nones: list[NoneRecord]  # "none of this kind", by id
    notes: tuple[EpisodeNote, ...] = ()  # free-text notes, by id
    comments: tuple[QuestionnaireLink, ...] = ()  # answered links with a comment or answered
    # outside their window, by id
    authors: dict[int, str] | None = None  # username by user id, of everyone who recorded
    unreviewed: frozenset[tuple[str, int]] = frozenset()  # (kind, id) imported, not reviewed

    def timeline(self) -> list[TimelineEntry]:
        """Every record, note and patient's comment of the episode, newest first (by its
        date, then by entry), each with its author's username (none for the patient's)."""
        procedures = {record.row.id: f"{inline(record.form.kind)} of {record.date}"
                      for record in self.by_kind.get("procedure", [])}
        entries = [record.entry(procedures) for records in self.by_kind.values()
                   for record in records]
        entries += [_none_entry(none) for none in self.nones]
        entries += [_note_entry(note) for note in self.notes]
        entries += [_comment_entry(link) for link in self.comments]
        authors = self.authors or {}
        entries = [replace(e, author=authors.get(e.recorded_by)) if e.recorded_by else e
                   for e in entries]
        return sorted(entries, key=lambda e: (e.date, e.recorded_on, e.kind, e.id), reverse=True)

    def latest(self, kind: str, as_of: dt.date) -> Any:
        """The kind's latest form known on `as_of` (what a new visit carries forward), or None."""
        return self._latest(kind, as_of)

    def case_as_of(self, as_of: dt.date) -> Case:
        """The `Case` of the episode as it could be known on `as_of`: built only from records
        recorded (`recorded_on`) on or before `as_of` that also describe that day or earlier.

        - Intake, exam and medications (dated by the day they were recorded): the latest one
          recorded on or before `as_of` wins, whole.
        - Imaging, blocks, procedures and PROMs by their own date; care courses whose start is on
          or before `as_of`; an `end` after `as_of` (a planned end) is left out, since on that
          day the course was still ongoing (the engine counts ongoing care to `as_of`, and a
          case may hold no date after it). Their dates cannot lie after the day they were
          recorded, so a record entered late (a January block recorded in June) joins the case
          only from the day it was recorded on.
        - A block's `pain_before` is its diary's baseline (minutes 0) and `pain_after` the lowest
          rating after it: the best relief the block gave, which is how a diagnostic block is read.
        - A procedure's relief (`relief_percent`, `relief_weeks`, `relief_ongoing`) comes from
          its outcome records known on `as_of` (`outcomes.relief_as_of`), so an outcome recorded
          later never changes the procedure as an earlier day saw it.
        - Absent stays absent: a list is `[]` only when the clinician recorded "none" (or records
          exist); with nothing recorded it stays `None`, which the engine reads as unknown.

        - A record marked entered in error is left out from its `voided_on` on, and kept for
          earlier days (so an intake voided leaves the one before it as the latest).

        So records added later, whatever day they describe, never change the case of an earlier
        day: the assessment of a past date is reproducible, and what a clinician saw is also kept
        verbatim in signed assessments.

        - Imported records no clinician reviewed give the case only what can stop an option;
          the case then also carries, as `reviewed`, itself without them, and the engine lets
          no check read better than it does there (`store/unreviewed.py`).
        """
        case = self._case(as_of)
        if not case.unreviewed:
            return case
        return case.model_copy(update={"reviewed": self._reviewed_only()._case(as_of)})

    def _reviewed_only(self) -> EpisodeRecords:
        """These records without the unreviewed ones: what may open an option."""
        return replace(self, unreviewed=frozenset(),
                       by_kind={kind: [r for r in records if not self._pending(r)]
                                for kind, records in self.by_kind.items()},
                       nones=[none for none in self.nones
                              if ("none", none.id) not in self.unreviewed])

    def _case(self, as_of: dt.date) -> Case:
        if self.episode is None:
            raise NotFound(f"no episode {self.episode_id}")
        patient = self.episode.patient
        if patient.birth_date and as_of < patient.birth_date:  # none: a record without one
            raise ValueError(f"{as_of} is before the patient's birth date ({patient.birth_date})")
        intake, exam, medications = (self._counted_latest(kind, as_of)
                                     for kind in ("intake", "exam", "medications"))
        return Case(
            as_of=as_of,
            patient=CasePatient(id=case_patient_id(patient), birth_date=patient.birth_date,
                                sex=patient.sex, pregnant=intake.pregnant if intake else None),
            history=intake.engine() if intake else None,
            exam=exam.engine() if exam else None,
            medications=medications.engine() if medications else None,
            allergies=medications.allergies if medications else None,
            **self._lists(as_of),
            unreviewed=self._unreviewed_facts(as_of),
        )

    def _pending(self, record: StoredRecord) -> bool:
        return (record.spec.name, record.row.id) in self.unreviewed

    def _counted(self, kind: str, as_of: dt.date) -> list[StoredRecord]:
        """The kind's records the case counts on `as_of`: reviewed ones, and unreviewed ones
        that can stop an option (`unreviewed.stopping_facts`)."""
        return [record for record in self._dated(kind, as_of) if not self._pending(record)
                or stopping_facts(kind, record.form)]

    def _counted_latest(self, kind: str, as_of: dt.date) -> Any:
        """The latest reviewed form, with the stops of later unreviewed ones laid over it."""
        dated = self._dated(kind, as_of)
        reviewed = [record for record in dated if not self._pending(record)]
        return with_stops(kind, reviewed[-1].form if reviewed else None,
                          [record.form for record in dated if self._pending(record)])

    def _unreviewed_facts(self, as_of: dt.date) -> list[UnreviewedFact] | None:
        found = [UnreviewedFact(kind=record.spec.name, record_id=record.row.id,
                                counted=stopping_facts(record.spec.name, record.form))
                 for kind in KINDS for record in self._dated(kind, as_of)
                 if self._pending(record)]
        found += [UnreviewedFact(kind="none", record_id=none.id) for none in self.nones
                  if known_on(none, as_of) and ("none", none.id) in self.unreviewed]
        return found or None

    def _dated(self, kind: str, as_of: dt.date) -> list[StoredRecord]:
        """The kind's records known on `as_of`: recorded by then, describing then or earlier."""
        return [record for record in self.by_kind[kind]
                if known_on(record.row, as_of) and record.date <= as_of]

    def _latest(self, kind: str, as_of: dt.date) -> Any:
        dated = self._dated(kind, as_of)
        return dated[-1].form if dated else None

    def _lists(self, as_of: dt.date) -> dict[str, Any]:
        """Each Case list: its records' engine models, `[]` if confirmed none, else None."""
        confirmed_none = {none.kind for none in self.nones if known_on(none, as_of)
                          and ("none", none.id) not in self.unreviewed}  # opens: waits
        lists: dict[str, Any] = {}
        for spec in KINDS.values():
            if spec.case_field:
                found = [record.form.engine() for record in self._counted(spec.name, as_of)]
                if spec.case_field == "conservative_care":
                    found = [_ongoing_on(course, as_of) for course in found]
                lists[spec.case_field] = found or ([] if spec.name in confirmed_none else None)
        if lists["procedures"]:
            lists["procedures"] = self._with_relief(as_of)
        return lists

    def _with_relief(self, as_of: dt.date) -> list[Any]:
        """The procedures known on `as_of`, each with its relief from the outcomes known then."""
        known = self._counted("procedure_outcome", as_of)
        return [relief_as_of(record.form.engine(),
                             [o.form for o in known if o.form.procedure_id == record.row.id])
                for record in self._counted("procedure", as_of)]


def _ongoing_on(course: Any, as_of: dt.date) -> Any:
    """A care course as it stood on `as_of`: one ending later was still ongoing then."""
    return course.model_copy(update={"end": None}) if course.end and course.end > as_of else course


_EPISODE = bindparam("episode_id")
_NONES = select(NoneRecord).where(NoneRecord.episode_id == _EPISODE).order_by(NoneRecord.id)
_NOTES = select(EpisodeNote).where(EpisodeNote.episode_id == _EPISODE).order_by(EpisodeNote.id)
_COMMENTS = (select(QuestionnaireLink).where(
    QuestionnaireLink.episode_id == _EPISODE,
    or_(QuestionnaireLink.comment.is_not(None), QuestionnaireLink.answered_timing.is_not(None)))
    .order_by(QuestionnaireLink.id))


@cache
def _rows(spec: Kind) -> Select[Any]:
    """The kind's rows of an episode, oldest first, child rows joined in (never a query per row).

    Built once: on a small episode, building a statement costs more than running it.
    """
    query = select(spec.row).where(spec.row.episode_id == _EPISODE)
    if spec.child:
        query = query.options(joinedload(getattr(spec.row, spec.child[1])))
    return query.order_by(getattr(spec.row, spec.dated_by), spec.row.id)


def _read(session: Session, spec: Kind, episode_id: int) -> list[StoredRecord]:
    rows = session.scalars(_rows(spec), {"episode_id": episode_id}).unique()
    return [StoredRecord(spec, row) for row in rows]


def load_episode_records(session: Session, episode_id: int,
                         kinds: Iterable[str] | None = None) -> EpisodeRecords:
    """Read every record of the episode once: one query per record table, its notes and
    patients' comments, the usernames of who recorded them, and the episode with its
    patient (no query if the session holds them already, as on the episode page). `kinds`
    reads only those record tables (the others read as empty), for callers that need less."""
    wanted = set(KINDS if kinds is None else kinds)
    by_kind = {spec.name: _read(session, spec, episode_id) if spec.name in wanted else []
               for spec in KINDS.values()}
    nones = list(session.scalars(_NONES, {"episode_id": episode_id}))
    notes = tuple(session.scalars(_NOTES, {"episode_id": episode_id}))
    comments = tuple(session.scalars(_COMMENTS, {"episode_id": episode_id}))
    episode = session.get(Episode, episode_id, options=[joinedload(Episode.patient)])
    ids = {r.row.recorded_by for rs in by_kind.values() for r in rs}
    ids |= {n.recorded_by for n in (*nones, *notes)}
    ids.discard(None)
    authors = dict(session.execute(select(User.id, User.username).where(User.id.in_(ids)))
                   .all()) if ids else {}
    return EpisodeRecords(episode_id, episode, by_kind, nones, notes, comments, authors,
                          unreviewed_in(session, [episode_id]).get(episode_id, frozenset()))


@cache
def _rows_of_many(spec: Kind) -> Select[Any]:
    """The kind's rows of several episodes, oldest first, child rows joined in."""
    query = select(spec.row).where(spec.row.episode_id.in_(bindparam("episode_ids",
                                                                     expanding=True)))
    if spec.child:
        query = query.options(joinedload(getattr(spec.row, spec.child[1])))
    return query.order_by(getattr(spec.row, spec.dated_by), spec.row.id)


def load_many_episode_records(session: Session, episodes: list[Episode]
                              ) -> dict[int, EpisodeRecords]:
    """`load_episode_records` for many episodes at once (their patients loaded with them):
    one query per record table for the lot, for exports that read thousands."""
    ids = [episode.id for episode in episodes]
    by_episode: dict[int, dict[str, list[StoredRecord]]] = {
        i: {name: [] for name in KINDS} for i in ids}
    for spec in KINDS.values():
        for row in session.scalars(_rows_of_many(spec), {"episode_ids": ids}).unique():
            by_episode[row.episode_id][spec.name].append(StoredRecord(spec, row))
    nones: dict[int, list[NoneRecord]] = {i: [] for i in ids}
    for none in session.scalars(select(NoneRecord).where(NoneRecord.episode_id.in_(ids))
                                .order_by(NoneRecord.id)):
        nones[none.episode_id].append(none)
    users = {r.row.recorded_by for kinds in by_episode.values() for rs in kinds.values()
             for r in rs} - {None}
    authors = dict(session.execute(select(User.id, User.username).where(User.id.in_(users)))
                   .all()) if users else {}
    pending = unreviewed_in(session, ids)
    return {e.id: EpisodeRecords(e.id, e, by_episode[e.id], nones[e.id], authors=authors,
                                 unreviewed=pending.get(e.id, frozenset()))
            for e in episodes}


def unreviewed_in(session: Session, episode_ids: list[int]
                  ) -> dict[int, frozenset[tuple[str, int]]]:
    """(kind, id) of each episode's imported records no clinician has reviewed."""
    found: dict[int, set[tuple[str, int]]] = {}
    rows = session.execute(select(ImportedRecord.episode_id, ImportedRecord.kind,
                                  ImportedRecord.record_id)
                           .where(ImportedRecord.episode_id.in_(episode_ids),
                                  ImportedRecord.review == "unreviewed"))
    for episode_id, kind, record_id in rows:
        found.setdefault(episode_id, set()).add((kind, record_id))
    return {episode_id: frozenset(kinds) for episode_id, kinds in found.items()}


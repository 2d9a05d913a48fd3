"""An episode's records read once; its timeline and its `Case` of any day both come from that read.

The episode page needs the timeline and the case together, and reading them separately read
every record twice. `load_episode_records` reads each record table once (child rows joined
into the same query) and everything after that is done in memory. `list_timeline` and
`case_as_of` are this loader for callers that need only one of the two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from sijcare.model.case import Case
from sijcare.model.case import Patient as CasePatient
from sijcare.store.errors import NotFound
from sijcare.store.forms import dump
from sijcare.store.kinds import KINDS, Kind
from sijcare.store.models import Episode, NoneRecord, Patient, RecordRow
from sijcare.store.outcomes import relief_as_of


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


VOIDED = " (entered in error)"


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

    def entry(self) -> TimelineEntry:
        row = self.row
        summary = self.spec.summary(self.form) + (VOIDED if row.voided_on else "")
        return TimelineEntry(self.spec.name, row.id, self.date, summary, dump(self.form),
                             row.recorded_on, row.recorded_by, row.voided_on, row.void_reason)


def _none_entry(none: NoneRecord) -> TimelineEntry:
    summary = f"None recorded: {none.kind.replace('_', ' ')}" + (VOIDED if none.voided_on else "")
    return TimelineEntry(none.kind, none.id, none.recorded_on, summary, {"none": True},
                         none.recorded_on, none.recorded_by, none.voided_on, none.void_reason)


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

    def timeline(self) -> list[TimelineEntry]:
        """Every record of the episode, newest first (by its date, then by entry)."""
        entries = [record.entry() for records in self.by_kind.values() for record in records]
        entries += [_none_entry(none) for none in self.nones]
        return sorted(entries, key=lambda e: (e.date, e.recorded_on, e.kind, e.id), reverse=True)

    def case_as_of(self, as_of: dt.date) -> Case:
        """The `Case` of the episode as it could be known on `as_of`: built only from records
        recorded (`recorded_on`) on or before `as_of` that also describe that day or earlier.

        - Intake, exam and medications (dated by the day they were recorded): the latest one
          recorded on or before `as_of` wins, whole.
        - Imaging, blocks, procedures and PROMs by their own date; care courses whose start is on
          or before `as_of`, with `end` left as recorded (the engine counts ongoing care to
          `as_of`). Their dates cannot lie after the day they were recorded, so a record entered
          late (a January block recorded in June) joins the case only from the day it was
          recorded on.
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
        """
        if self.episode is None:
            raise NotFound(f"no episode {self.episode_id}")
        patient = self.episode.patient
        if as_of < patient.birth_date:
            raise ValueError(f"as_of {as_of} is before the patient's birth date")
        intake, exam, medications = (self._latest(kind, as_of)
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
        )

    def _dated(self, kind: str, as_of: dt.date) -> list[StoredRecord]:
        """The kind's records known on `as_of`: recorded by then, describing then or earlier."""
        return [record for record in self.by_kind[kind]
                if known_on(record.row, as_of) and record.date <= as_of]

    def _latest(self, kind: str, as_of: dt.date) -> Any:
        dated = self._dated(kind, as_of)
        return dated[-1].form if dated else None

    def _lists(self, as_of: dt.date) -> dict[str, Any]:
        """Each Case list: its records' engine models, `[]` if confirmed none, else None."""
        confirmed_none = {none.kind for none in self.nones if known_on(none, as_of)}
        lists: dict[str, Any] = {}
        for spec in KINDS.values():
            if spec.case_field:
                found = [record.form.engine() for record in self._dated(spec.name, as_of)]
                lists[spec.case_field] = found or ([] if spec.name in confirmed_none else None)
        if lists["procedures"]:
            lists["procedures"] = self._with_relief(as_of)
        return lists

    def _with_relief(self, as_of: dt.date) -> list[Any]:
        """The procedures known on `as_of`, each with its relief from the outcomes known then."""
        known = self._dated("procedure_outcome", as_of)
        return [relief_as_of(record.form.engine(),
                             [o.form for o in known if o.form.procedure_id == record.row.id])
                for record in self._dated("procedure", as_of)]


_EPISODE = bindparam("episode_id")
_NONES = select(NoneRecord).where(NoneRecord.episode_id == _EPISODE).order_by(NoneRecord.id)


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


def load_episode_records(session: Session, episode_id: int) -> EpisodeRecords:
    """Read every record of the episode once: one query per record table, and the episode with
    its patient (no query if the session holds them already, as on the episode page)."""
    by_kind = {spec.name: _read(session, spec, episode_id) for spec in KINDS.values()}
    nones = list(session.scalars(_NONES, {"episode_id": episode_id}))
    episode = session.get(Episode, episode_id, options=[joinedload(Episode.patient)])
    return EpisodeRecords(episode_id, episode, by_kind, nones)

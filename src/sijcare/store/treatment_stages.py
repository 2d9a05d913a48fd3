"""Each procedure's pathway stage at treatment, kept in `procedures.stage_at_treatment`.

The registry filters outcomes by it, so it must be a column, and it must never be a copy of the
engine's rules: it is the engine's `stage` for the episode's case as of the procedure's date
(what was known that day, `EpisodeRecords.case_as_of`), without the procedures of that same
day (what the clinician saw when deciding on them), under the patient's default policy.

It stays current as the follow-up schedule does (`store/derived.py`): a flush
that adds or changes any record of an episode, or a patient's payer, marks the episode, and
before the transaction commits the stages of its procedures are derived again and written in
the same transaction. A procedure entered in error keeps its stage, derived like any other:
the registry leaves voided procedures out, so the stage is never read for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history, set_committed_value

from sijcare.engine import assess
from sijcare.model.case import Case
from sijcare.store.derived import keep_current
from sijcare.store.episode_records import EpisodeRecords, load_episode_records
from sijcare.store.models import Episode, Patient, ProcedureRecord, RecordRow
from sijcare.store.patients import default_policy


def treatment_case(case: Case) -> Case:
    """The case as of a procedure's day without that day's procedures."""
    if case.procedures is None:
        return case
    earlier = [p for p in case.procedures if p.date < case.as_of]
    return case.model_copy(update={"procedures": earlier})


def stage_at_treatment(records: EpisodeRecords, day: dt.date, policy: str) -> str | None:
    """The engine's stage for a procedure on `day`; None before the birth date."""
    try:
        case = records.case_as_of(day)
    except ValueError:
        return None
    return assess(treatment_case(case), policy).stage


def episode_stages(records: EpisodeRecords) -> dict[int, str | None]:
    """Procedure id -> its stage at treatment, one engine run per day with a procedure."""
    if records.episode is None:
        return {}
    policy = default_policy(records.episode.patient)
    rows = [record.row for record in records.by_kind["procedure"]]
    by_day = {day: stage_at_treatment(records, day, policy) for day in {r.date for r in rows}}
    return {row.id: by_day[row.date] for row in rows}


_TREATED = select(ProcedureRecord.id).where(
    ProcedureRecord.episode_id == bindparam("episode")).limit(1)
_SET = (update(ProcedureRecord.__table__)
        .where(ProcedureRecord.__table__.c.id == bindparam("procedure"))
        .values(stage_at_treatment=bindparam("stage")))


def refresh_stages(session: Session, episode_ids: Iterable[int], *,
                   imported: bool = True) -> None:
    """Derive the stages of the episodes' procedures again and store the ones that changed.

    Written with a Core UPDATE, so the procedures do not read as changed records to the
    listeners (the follow-up schedule does not depend on the stage). Episodes without a
    procedure, as most are while being worked up, are not read at all. `imported=False`
    for a migration older than the imported records' table (nothing was imported then).
    """
    for episode_id in sorted(set(episode_ids)):
        if session.scalar(_TREATED, {"episode": episode_id}) is None:
            continue
        records = load_episode_records(session, episode_id, imported=imported)
        stages = episode_stages(records)
        changed = [record.row for record in records.by_kind["procedure"]
                   if record.row.stage_at_treatment != stages[record.row.id]]
        if changed:
            session.execute(_SET, [{"procedure": row.id, "stage": stages[row.id]}
                                   for row in changed])
            for row in changed:
                set_committed_value(row, "stage_at_treatment", stages[row.id])


def _changed_episodes(session: Session) -> set[int]:
    """Episodes with a record this flush adds or changes, or whose patient's payer changed."""
    changed = {obj.episode_id for obj in (*session.new, *session.dirty)
               if isinstance(obj, RecordRow)}  # every record kind, "none" too
    payers = [obj.id for obj in session.dirty
              if isinstance(obj, Patient) and get_history(obj, "payer").has_changes()]
    if payers:  # inside a flush a query does not flush again
        changed |= set(session.scalars(select(Episode.id).where(Episode.patient_id.in_(payers))))
    return changed


keep_current("treatment_stages", _changed_episodes, refresh_stages)

"""Bulk synthetic patients for benchmarks: thousands per second, still validated record by record.

Each patient gets one episode with an intake, an exam, a care course, PROMs and often a block
and a procedure with its outcome at a follow-up. Every record is validated by its kind's form,
then rows are inserted with one multi-row INSERT per table (ids come back in order, for the
child rows).

What is derived from the records is left underived, since bulk INSERTs skip the listeners
that keep it current: the follow-up schedule (`refresh_schedules`) and the procedures' stage
at treatment (`refresh_stages`, NULL until then). Deriving the stages would take four times as
long as generating (3.2 s against 0.8 s for 2,000 patients); these records are too varied (red
flags, blocks on either side, care of any length) to read the stage off the plan, as
`analytics.cohort_stages` does for the registry's narrower cohorts.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.kinds import KINDS
from sijcare.store.models import Clinic, Episode, Patient, ProcedureOutcome
from sijcare.store.outcomes import initial_outcome
from sijcare.store.users import create_clinic

SYNTHETIC_CLINIC = "Synthetic Clinic (generated data)"
TESTS = ("distraction", "thigh_thrust", "compression", "sacral_thrust", "gaenslen_left",
         "gaenslen_right", "faber", "yeoman")

Planned = dict[str, list[tuple[int, dict[str, Any], dt.date]]]  # kind -> (patient, data, day)


def _plan(rng: random.Random, index: int, today: dt.date, planned: Planned) -> None:
    """The records of patient `index`, all dated on or before `today`."""
    opened = today - dt.timedelta(days=rng.randint(200, 900))

    def on(days: int) -> dt.date:
        return opened + dt.timedelta(days=days)

    def add(kind: str, data: dict[str, Any], day: dt.date) -> None:
        planned[kind].append((index, data, day))

    onset = opened - dt.timedelta(days=rng.randint(30, 300))
    add("intake", {"pain_onset": onset, "pain_nrs": rng.randint(3, 9),
                   "side": rng.choice(["left", "right", "bilateral"]), "below_l5": True,
                   "below_knee": rng.random() < 0.2, "fortin_finger": rng.random() < 0.6,
                   "red_flags": ["fever"] if rng.random() < 0.02 else [],
                   "generalized_pain_disorder": rng.random() < 0.1}, opened)
    add("exam", {"provocation": {t: rng.choice(["positive", "negative"]) for t in TESTS},
                 "straight_leg_raise": "negative", "neuro_deficit": False}, opened)
    add("care_course", {"type": rng.choice(["physical_therapy", "nsaid", "home_exercise"]),
                        "start": on(7), "end": on(7 + rng.randint(28, 180))}, on(7))
    nrs = rng.randint(4, 9)
    add("prom", {"date": opened, "instrument": "nrs", "value": nrs}, opened)
    add("prom", {"date": opened, "instrument": "odi",
                 "answers": [rng.choice([0, 1, 2, 3, 4, 5, None]) for _ in range(10)]}, opened)
    if rng.random() < 0.6:
        before = rng.randint(5, 9)
        after = [rng.randint(0, before) for _ in range(3)]
        add("block", {"date": on(120), "guidance": "fluoroscopy", "side": "left",
                      "diary": [{"minutes": m, "pain": p}
                                for m, p in zip((0, 30, 60, 240), (before, *after), strict=True)]},
            on(120))
        if rng.random() < 0.5:
            # the relief is recorded at the follow-up 40 days on, so it lasted at most that
            # long (ENGINE-RULES v3 refuses relief longer than the time since the procedure)
            add("procedure", {"date": on(150), "kind": "steroid_injection"}, on(150))
            add("procedure_outcome", {"date": on(190),
                                      "relief_percent": rng.choice([20, 40, 60, 80]),
                                      "relief_weeks": rng.randint(2, 6),
                                      "relief_ongoing": False}, on(190))
            add("prom", {"date": on(190), "instrument": "nrs", "value": max(0, nrs - 3)},
                on(190))


def generate_synthetic(session: Session, n: int, *, seed: int = 0,
                       today: dt.date | None = None) -> int:
    """Add `n` synthetic patients (demo=True) to the synthetic clinic; return how many."""
    today = today or dt.date.today()
    clinic = (session.scalar(select(Clinic).where(Clinic.name == SYNTHETIC_CLINIC))
              or create_clinic(session, SYNTHETIC_CLINIC, demo=True))
    first = 1 + (session.scalar(select(func.count()).select_from(Patient)
                                .where(Patient.clinic_id == clinic.id)) or 0)
    rng = random.Random(f"{seed}-{first}")
    numbers = range(first, first + n)
    patient_ids = _insert_returning(session, Patient, [{
        "clinic_id": clinic.id, "external_id": f"syn-{k:06d}", "given_name": "Synthetic",
        "family_name": f"Patient {k:06d}", "sex": rng.choice(["female", "male"]),
        "birth_date": dt.date(rng.randint(1940, 2000), rng.randint(1, 12), rng.randint(1, 28)),
        "demo": True} for k in numbers])
    planned: Planned = {kind: [] for kind in KINDS}
    for index in range(n):
        _plan(rng, index, today, planned)
    episode_ids = _insert_returning(session, Episode, [
        {"patient_id": pid, "complaint": "SI-joint pain (synthetic)", "opened_on": day}
        for pid, (_, _, day) in zip(patient_ids, planned["intake"], strict=True)])
    outcomes = planned.pop("procedure_outcome")
    procedures: dict[int, int] = {}  # patient index -> its procedure's id (one at most)
    for name, items in planned.items():
        ids = _insert_records(session, name, [(episode_ids[i], data, day)
                                              for i, data, day in items])
        if name == "procedure":
            procedures = {i: row_id for (i, _, _), row_id in zip(items, ids, strict=True)}
    _insert_records(session, "procedure_outcome", [
        (episode_ids[i], {**data, "procedure_id": procedures[i]}, day)
        for i, data, day in outcomes])
    record_event(session, None, "generate", "clinic", clinic.id, clinic.id, {"patients": n})
    return n


def _insert_returning(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Core multi-row INSERT ... RETURNING: the ORM's bulk path sends one row per statement."""
    if not rows:
        return []
    table = model.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().scalars(statement, rows))


def _insert_records(session: Session, name: str,
                    items: list[tuple[int, dict[str, Any], dt.date]]) -> list[int]:
    """The items' rows (children included); the new procedures' ids in order (others: [])."""
    kind = KINDS[name]
    forms = [kind.form.model_validate(data) for _, data, _ in items]
    rows = [{**kind.columns(form), "episode_id": episode_id, "recorded_on": day}
            for form, (episode_id, _, day) in zip(forms, items, strict=True)]
    if name == "procedure":  # relief typed with a procedure is its first outcome
        ids = _insert_returning(session, kind.row, rows)
        first = [{**outcome, "procedure_id": row_id}
                 for row_id, form, row in zip(ids, forms, rows, strict=True)
                 if (outcome := initial_outcome(form, {"episode_id": row["episode_id"],
                                                       "recorded_on": row["recorded_on"]}))]
        if first:
            session.connection().execute(insert(ProcedureOutcome.__table__), first)
        return ids
    if not kind.child:
        if rows:
            session.connection().execute(insert(kind.row.__table__), rows)
        return []
    table, _, key = kind.child
    ids = _insert_returning(session, kind.row, rows)
    children = [{**child, key: row_id}
                for row_id, form in zip(ids, forms, strict=True)
                for child in kind.children(form)]
    if children:
        session.connection().execute(insert(table.__table__), children)
    return []

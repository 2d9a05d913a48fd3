"""Synthetic registry cohorts: realistic episodes with procedures and follow-up questionnaires.

One drawing (`draw_episodes`) feeds two sinks: `store_cohort` writes it to the clinic
database through the record kinds' forms and bulk INSERTs (`sijcare demo-data`), and the
registry benchmark writes the same draws straight to Parquet. Outcomes follow the published
figures in `registry.yaml`, each naming its study: each procedure draws one quantile `u`, and
the patient is relieved at month `t` while the kind's published share relieved at `t` is above
`u`, so relief lasts as long as those studies say it does, on average. Answers go missing more
often the later the point. At about half the answered points the clinician also records a
procedure outcome (relief in percent and PGIC); its `procedure` is the index of the episode's
procedure it follows, turned into that procedure's id when stored.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from sijcare.analytics.cohort_stages import drawn_stage
from sijcare.analytics.knowledge import DAYS_PER_MONTH, CohortCurve, load_registry
from sijcare.store.audit import record_event
from sijcare.store.follow_up import refresh_schedules
from sijcare.store.kinds import KINDS
from sijcare.store.models import Clinic, Episode, Membership, Patient, User, utcnow
from sijcare.store.synthetic import SYNTHETIC_CLINIC, TESTS
from sijcare.store.users import create_clinic, create_user

KIND_WEIGHTS = {"steroid_injection": 45, "rfa_conventional": 15, "rfa_cooled": 12,
                "prolotherapy": 10, "prp": 8, "mis_fusion": 10}
ANSWERED = {"2w": 0.85, "6w": 0.8, "3m": 0.75, "6m": 0.65, "12m": 0.55, "24m": 0.45}
ODI_POINTS = {"3m", "6m", "12m", "24m"}  # ENGINE-RULES: 2w/6w ask NRS and PGIC only
OUTCOME_RECORDED = 0.5  # share of answered points with a procedure outcome record as well
CLINICIANS = 3
LOCKED = "!"  # no password hashes to "!": nobody signs in as a synthetic clinician


@dataclass
class EpisodeDraw:
    """One synthetic patient with one episode: its rows before ids are known."""

    sex: str
    birth_date: dt.date
    opened_on: dt.date
    clinician: int  # 0-based index of the synthetic clinician who treats
    records: list[tuple[str, dict[str, Any], dt.date]] = field(default_factory=list)


def _relieved(curve: CohortCurve) -> Callable[[float], float]:
    """Share relieved (0-1) at `months`: straight lines between the figures, flat outside."""
    months = [f.months for f in curve.relieved]
    shares = [f.percent / 100 for f in curve.relieved]

    def at(t: float) -> float:
        i = bisect.bisect_left(months, t)
        if i == 0:
            return shares[0]
        if i == len(months):
            return shares[-1]
        m0, m1, s0, s1 = months[i - 1], months[i], shares[i - 1], shares[i]
        return s0 + (s1 - s0) * (t - m0) / (m1 - m0)

    return at


class _Drawer:
    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        registry = load_registry()
        self.points = registry.points
        self.curves = {c.kind: _relieved(c) for c in registry.cohort}
        self.kinds = list(KIND_WEIGHTS)
        self.weights = list(KIND_WEIGHTS.values())

    def episode(self) -> EpisodeDraw:
        rng, today = self.rng, self.today
        opened = today - dt.timedelta(days=rng.randint(60, 1100))
        age = rng.choice((rng.randint(25, 85), rng.randint(25, 85), rng.randint(86, 96)))
        draw = EpisodeDraw(
            sex=rng.choice(("female", "female", "male")),
            birth_date=opened - dt.timedelta(days=int(age * 365.25) + rng.randint(0, 364)),
            opened_on=opened, clinician=rng.randrange(CLINICIANS))
        add = draw.records.append
        side = rng.choice(("left", "right", "bilateral"))
        nrs, odi = rng.randint(4, 9), rng.randint(25, 70)
        add(("intake", {"pain_onset": opened - dt.timedelta(days=rng.randint(90, 700)),
                        "pain_nrs": nrs, "side": side, "below_l5": True,
                        "below_knee": rng.random() < 0.2, "fortin_finger": rng.random() < 0.6,
                        "red_flags": [], "generalized_pain_disorder": rng.random() < 0.1},
             opened))
        add(("exam", {"provocation": {t: rng.choice(("positive", "negative")) for t in TESTS},
                      "straight_leg_raise": "negative", "neuro_deficit": False}, opened))
        add(("care_course", {"type": rng.choice(("physical_therapy", "home_exercise")),
                             "start": opened, "end": opened + dt.timedelta(days=42)}, opened))
        self._scores(draw, opened, nrs, odi, pgic=None, odi_too=True)
        block_day = opened + dt.timedelta(days=49)
        if block_day <= today:
            after = rng.randint(0, max(0, nrs - 4))
            add(("block", {"date": block_day, "guidance": "fluoroscopy", "side": side,
                           "diary": [{"minutes": 0, "pain": nrs}, {"minutes": 30, "pain": after},
                                     {"minutes": 240, "pain": min(nrs, after + 2)}]}, block_day))
        day = opened + dt.timedelta(days=rng.randint(60, 120))
        kind = rng.choices(self.kinds, self.weights)[0]
        for _ in range(3):  # a procedure, and up to two repeats when relief wears off
            if day > today:
                break
            day = self._procedure(draw, kind, day, side, nrs, odi)
            if day is None:
                break
        return draw

    def _scores(self, draw: EpisodeDraw, day: dt.date, nrs: int, odi: float,
                pgic: int | None, odi_too: bool) -> None:
        add = draw.records.append
        add(("prom", {"date": day, "instrument": "nrs", "value": nrs}, day))
        if odi_too:
            answers: list[int | None] = [
                min(5, max(0, round(odi / 20 + self.rng.uniform(-1, 1)))) for _ in range(10)]
            if self.rng.random() < 0.15:
                answers[self.rng.randrange(10)] = None
            add(("prom", {"date": day, "instrument": "odi", "answers": answers}, day))
        if pgic is not None:
            add(("prom", {"date": day, "instrument": "pgic", "value": pgic}, day))

    def _procedure(self, draw: EpisodeDraw, kind: str, day: dt.date, side: str,
                   nrs: int, odi: float) -> dt.date | None:
        """Record the procedure and its follow-ups; the day of a repeat, or None."""
        rng, relieved = self.rng, self.curves[kind]
        baseline = day - dt.timedelta(days=rng.randint(0, 14))
        self._scores(draw, baseline, nrs, odi, pgic=None, odi_too=True)
        procedure = sum(name == "procedure" for name, _, _ in draw.records)
        draw.records.append(("procedure", {"date": day, "kind": kind, "side": side,
                                           "guidance": "fluoroscopy"}, day))
        u = rng.random()
        for point in self.points:
            due = day + dt.timedelta(days=point.days + rng.randint(-point.before, point.after))
            if due > self.today:
                return None
            months = point.days / DAYS_PER_MONTH
            if u >= relieved(months):  # relief has worn off: perhaps repeat, else go on
                if kind != "mis_fusion" and rng.random() < 0.35:
                    return due + dt.timedelta(days=rng.randint(7, 40))
                gain = rng.uniform(-0.1, 0.45)
            else:
                gain = rng.uniform(0.5, 1.0)
            if rng.random() < ANSWERED[point.id]:
                pgic = rng.randint(1, 2) if gain >= 0.5 else rng.randint(3, 6)
                recorded = rng.random() < OUTCOME_RECORDED
                self._scores(draw, due, round(nrs * (1 - gain)), odi * (1 - gain * 0.8),
                             pgic=None if recorded else pgic, odi_too=point.id in ODI_POINTS)
                if recorded:
                    draw.records.append(("procedure_outcome", {
                        "procedure": procedure, "date": due, "pgic": pgic,
                        "relief_percent": max(0, round(gain * 100))}, due))
        return None


def draw_episodes(n: int, *, seed: int = 0, today: dt.date | None = None,
                  ) -> Iterator[EpisodeDraw]:
    """`n` synthetic episodes; the same seed and day always give the same episodes."""
    drawer = _Drawer(seed, today or dt.date.today())
    for _ in range(n):
        yield drawer.episode()


def _synthetic_clinicians(session: Session, clinic: Clinic) -> list[int]:
    ids = []
    for number in range(1, CLINICIANS + 1):
        name = f"synthetic-clinician-{number}"
        user = session.scalar(select(User).where(User.username == name))
        ids.append((user or create_user(session, name, LOCKED, "clinician", [clinic.id])).id)
    return ids


def _open_to_demo_clinicians(session: Session, clinic: Clinic) -> None:
    """Clinicians of a demo clinic (the demo's own account) also see the synthetic one, so the
    demo's registry page shows the cohort. Real clinics and their users are never touched."""
    demo_members = select(Membership.user_id).join(Clinic, Clinic.id == Membership.clinic_id) \
        .where(Clinic.demo.is_(True), Clinic.id != clinic.id)
    members = set(session.scalars(select(Membership.user_id)
                                  .where(Membership.clinic_id == clinic.id)))
    for user in session.scalars(select(User).where(
            User.id.in_(demo_members), User.role == "clinician", User.active.is_(True))):
        if user.id not in members:
            session.add(Membership(user_id=user.id, clinic_id=clinic.id))
    session.flush()


def _reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` new primary keys, so rows and their children go in as plain executemany.

    PostgreSQL hands them out from the table's sequence (safe beside other writers); SQLite
    counts on from the largest id, safe because its write transaction holds the one lock.
    """
    if not count:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return sorted(session.scalars(select(func.nextval(sequence))
                                      .select_from(func.generate_series(1, count))))
    last = session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    return list(range(last + 1, last + 1 + count))


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` with new ids (returned in order) in one executemany."""
    ids = _reserve_ids(session, table, len(rows))
    if rows:
        session.connection().execute(insert(table), [
            {**row, "id": row_id} for row_id, row in zip(ids, rows, strict=True)])
    return ids


def _insert_records(session: Session, kind_name: str, items: list[tuple[int, int, Any, dt.date]],
                    derived: list[dict[str, Any]] | None = None) -> list[int]:
    """(episode, recorded by, data, day) items of one kind, each validated by the kind's form;
    the new rows' ids in order. `derived`: per item, columns no form holds (a procedure's
    stage at treatment)."""
    kind = KINDS[kind_name]
    forms = [kind.form.model_validate(data) for _, _, data, _ in items]
    ids = _insert(session, kind.row.__table__, [
        {**kind.columns(form), **extra, "episode_id": episode_id, "recorded_by": clinician,
         "recorded_on": day} for form, extra, (episode_id, clinician, _, day)
        in zip(forms, derived or [{}] * len(items), items, strict=True)])
    if kind.child:
        table, _, key = kind.child
        children = [{**child, key: row_id} for row_id, form in zip(ids, forms, strict=True)
                    for child in kind.children(form)]
        _insert(session, table.__table__, children)
    return ids


def _by_episode(items: list[tuple[int, int, Any, dt.date]], ids: list[int]) -> dict[int, list[int]]:
    """Each episode's new procedure ids, in the order they were drawn."""
    found: dict[int, list[int]] = {}
    for (episode_id, *_), row_id in zip(items, ids, strict=True):
        found.setdefault(episode_id, []).append(row_id)
    return found


def _outcome_of(data: dict[str, Any], procedure_ids: list[int]) -> dict[str, Any]:
    """A drawn outcome as its form takes it: the procedure's index replaced by its id."""
    values = {k: v for k, v in data.items() if k != "procedure"}
    return {**values, "procedure_id": procedure_ids[data["procedure"]]}


def store_cohort(session: Session, n: int, *, seed: int = 0, today: dt.date | None = None,
                 batch: int = 2000, advance: Callable[[int], None] | None = None) -> int:
    """Add `n` synthetic patients (demo=True) to the synthetic clinic in batches; return `n`.

    Each patient's records are recorded by one of three synthetic clinicians (so the
    registry's clinician filter has something to filter). Each episode's follow-up schedule
    is derived batch by batch, as a clinician's records would derive it, so the worklist and
    the response rates show due, missed and done points. `advance(k)` is called after each
    batch of `k` patients, for a progress bar.
    """
    clinic = (session.scalar(select(Clinic).where(Clinic.name == SYNTHETIC_CLINIC))
              or create_clinic(session, SYNTHETIC_CLINIC, demo=True))
    clinicians = _synthetic_clinicians(session, clinic)
    _open_to_demo_clinicians(session, clinic)
    first = 1 + (session.scalar(select(func.count()).select_from(Patient)
                                .where(Patient.clinic_id == clinic.id)) or 0)
    draws = draw_episodes(n, seed=seed, today=today)
    for start in range(0, n, batch):
        chunk = [next(draws) for _ in range(min(batch, n - start))]
        numbers = range(first + start, first + start + len(chunk))
        patient_ids = _insert(session, Patient.__table__, [{
            "clinic_id": clinic.id, "external_id": f"syn-{k:07d}", "given_name": "Synthetic",
            "family_name": f"Patient {k:07d}", "sex": d.sex, "birth_date": d.birth_date,
            "demo": True, "created_at": utcnow()} for k, d in zip(numbers, chunk, strict=True)])
        episode_ids = _insert(session, Episode.__table__, [
            {"patient_id": pid, "complaint": "SI-joint pain (synthetic)", "opened_on": d.opened_on,
             "created_by": clinicians[d.clinician], "created_at": utcnow()}
            for pid, d in zip(patient_ids, chunk, strict=True)])
        by_kind: dict[str, list[tuple[int, int, Any, dt.date]]] = {}
        stages: dict[int, str | None] = {}
        for episode_id, d in zip(episode_ids, chunk, strict=True):
            stages[episode_id] = drawn_stage(d.records)
            for kind, data, day in d.records:
                by_kind.setdefault(kind, []).append(
                    (episode_id, clinicians[d.clinician], data, day))
        outcomes = by_kind.pop("procedure_outcome", [])
        procedure_ids: dict[int, list[int]] = {}
        for kind, items in by_kind.items():
            derived = ([{"stage_at_treatment": stages[item[0]]} for item in items]
                       if kind == "procedure" else None)
            ids = _insert_records(session, kind, items, derived)
            if kind == "procedure":
                procedure_ids = _by_episode(items, ids)
        if outcomes:
            _insert_records(session, "procedure_outcome", [
                (episode_id, clinician, _outcome_of(data, procedure_ids[episode_id]), day)
                for episode_id, clinician, data, day in outcomes])
        # bulk INSERTs skip the listener that keeps each schedule current: derive it here
        refresh_schedules(session, episode_ids, today)
        if advance:
            advance(len(chunk))
    if session.get_bind().dialect.name == "postgresql":
        # fresh statistics, or the planner takes the bulk-loaded tables for empty ones
        tables = {Patient.__table__, Episode.__table__, *(k.row.__table__ for k in KINDS.values()),
                  *(k.child[0].__table__ for k in KINDS.values() if k.child)}
        session.execute(text("ANALYZE " + ", ".join(sorted(t.name for t in tables))))
    record_event(session, None, "generate", "clinic", clinic.id, clinic.id,
                 {"patients": n, "seed": seed})
    return n

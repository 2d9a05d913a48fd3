"""The registry's SQL, built with SQLAlchemy Core so it runs on SQLite, PostgreSQL and DuckDB.

Everything that touches rows happens in the database: scores (the ODI from its answers),
baselines, the follow-up nearest each point, responders, sums for the mean changes, and the
durations for Kaplan-Meier grouped into counts. Python only turns counts into intervals.
Ties are broken by value, never by id, because ids differ between the database and the export.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    Date,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select
from sqlalchemy.sql.functions import GenericFunction

from sijcare.analytics.knowledge import load_registry
from sijcare.analytics.tables import Tables
from sijcare.knowledge import load_knowledge


class days_between(GenericFunction):
    """`days_between(later, earlier)`: whole days from one date to another, on every database."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_default(element, compiler, **kw):  # PostgreSQL and DuckDB: date - date is days
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (f"CAST(julianday({compiler.process(later, **kw)}) - "
            f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)")


@dataclass(frozen=True)
class Filters:
    """Which procedures count: by date, by who recorded them, by side, by clinic, by the
    pathway stage the patient was at when treated (`procedures.stage_at_treatment`)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    clinician: int | str | None = None  # a user id, or its key in the research export
    side: str | None = None
    clinics: tuple[int | str, ...] | None = None  # None: every clinic
    stage: str | None = None  # a stage id of the pathway

    def applied(self) -> dict[str, object]:
        """The filters that are set, as plain values: what an audit entry keeps of a view."""
        values = {"from": self.date_from, "to": self.date_to, "clinician": self.clinician,
                  "side": self.side, "clinics": self.clinics, "stage": self.stage}
        return {name: value.isoformat() if isinstance(value, dt.date)
                else list(value) if isinstance(value, tuple) else value
                for name, value in values.items() if value is not None}


def _live(tables: Tables, table) -> list[ColumnElement]:
    return [table.c.voided_on.is_(None)] if tables.voidable else []


def procedures(tables: Tables, filters: Filters):
    """Procedures that count, each with the date of the next one in its episode (a repeat)."""
    p = tables.procedures
    where = _live(tables, p)
    if filters.date_from:
        where.append(p.c.date >= filters.date_from)
    if filters.date_to:
        where.append(p.c.date <= filters.date_to)
    if filters.clinician is not None:
        where.append(p.c.recorded_by == filters.clinician)
    if filters.side:
        where.append(p.c.side == filters.side)
    if filters.stage:
        where.append(p.c.stage_at_treatment == filters.stage)
    if filters.clinics is not None:
        e, patients = tables.episodes, tables.patients
        where.append(p.c.episode_id.in_(
            select(e.c.id).join(patients, patients.c.id == e.c.patient_id)
            .where(patients.c.clinic_id.in_(filters.clinics))))
    # the next procedure is looked for among all live ones, so a filter never hides a repeat
    ordered = select(
        p.c.id, p.c.episode_id, p.c.date, p.c.kind, p.c.side, p.c.recorded_by,
        func.lead(p.c.date).over(partition_by=p.c.episode_id, order_by=(p.c.date, p.c.kind))
        .label("next_date"),
    ).where(*_live(tables, p)).subquery("ordered")
    kept = select(p.c.id).where(*where)
    return select(ordered).where(ordered.c.id.in_(kept)).subquery("procs")


def scores(tables: Tables, *, odi_too: bool = True) -> Select | CompoundSelect:
    """Every usable score: NRS and PGIC values, and ODI percentages from the answers.

    Without `odi_too`, NRS and PGIC only: durability reads the NRS alone, and scoring every
    ODI from its answers is the costliest part of the query."""
    m, a = tables.proms, tables.prom_answers
    values = select(m.c.episode_id, m.c.date, m.c.instrument, cast(m.c.value, Float)
                    .label("value")).where(m.c.instrument.in_(("nrs", "pgic")),
                                           m.c.value.is_not(None), *_live(tables, m))
    if not odi_too:
        return values
    odi = load_knowledge().outcomes.odi
    answered = (select(a.c.prom_id, func.sum(a.c.answer).label("total"),
                       func.count(a.c.answer).label("answered"))
                .group_by(a.c.prom_id)
                .having(func.count(a.c.answer) >= odi.min_answered).subquery("answered"))
    odis = select(m.c.episode_id, m.c.date, m.c.instrument,
                  (cast(answered.c.total, Float) * 100.0
                   / (answered.c.answered * odi.max_per_section)).label("value")).join(
        answered, answered.c.prom_id == m.c.id).where(m.c.instrument == "odi",
                                                      *_live(tables, m))
    return union_all(values, odis)


def points():
    """The follow-up points as a small literal table: id, target day, window."""
    rows = [select(cast(literal(p.id), String(5)).label("point"),
                   cast(literal(p.days), Integer).label("target"),
                   cast(literal(p.days - p.before), Integer).label("low"),
                   cast(literal(p.days + p.after), Integer).label("high"))
            for p in load_registry().points]
    return union_all(*rows).cte("points")


def _baselines(procs, s):
    window = load_registry().baseline_days
    days = days_between(procs.c.date, s.c.date)
    ranked = select(
        procs.c.id.label("proc_id"), s.c.instrument, s.c.value,
        func.row_number().over(partition_by=(procs.c.id, s.c.instrument),
                               order_by=(s.c.date.desc(), s.c.value.desc())).label("rank"),
    ).join(s, s.c.episode_id == procs.c.episode_id).where(
        s.c.instrument.in_(("nrs", "odi")), days >= 0, days <= window).subquery("ranked_base")
    first = ranked.c.rank == 1
    return (select(ranked.c.proc_id,
                   func.max(case((ranked.c.instrument == "nrs", ranked.c.value))).label("nrs"),
                   func.max(case((ranked.c.instrument == "odi", ranked.c.value))).label("odi"))
            .where(first).group_by(ranked.c.proc_id).subquery("baselines"))


def _follow_ups(tables: Tables, procs, s):
    """Per procedure, every score after it and before a repeat, with its day; and the relief
    and PGIC of the procedure's outcome records (instruments `relief` and `pgic`)."""
    days = days_between(s.c.date, procs.c.date).label("days")
    scored = (select(procs.c.id.label("proc_id"), s.c.instrument, s.c.value, days)
              .join(s, s.c.episode_id == procs.c.episode_id)
              .where(s.c.date > procs.c.date,
                     or_(procs.c.next_date.is_(None), s.c.date < procs.c.next_date)))
    o = tables.outcomes
    found = [select(procs.c.id, cast(literal(name), String(10)), cast(column, Float),
                    days_between(o.c.date, procs.c.date))
             .join(o, o.c.procedure_id == procs.c.id)
             .where(column.is_not(None), o.c.date > procs.c.date, *_live(tables, o))
             for name, column in (("relief", o.c.relief_percent), ("pgic", o.c.pgic))]
    return union_all(scored, *found).subquery("follow_ups")


def responder_rows(tables: Tables, filters: Filters, as_of: dt.date) -> Select:
    """Per kind and point: due, answered, and per definition evaluable and responders,
    with sums for the mean NRS and ODI changes."""
    outcomes = load_knowledge().outcomes
    # a common table: the baselines and the follow-ups read it, and scoring each ODI from
    # its answers is worth doing once
    procs, s, pts = procedures(tables, filters), scores(tables).cte("scores"), points()
    base, fu = _baselines(procs, s), _follow_ups(tables, procs, s)
    ranked = select(
        fu.c.proc_id, pts.c.point, fu.c.instrument, fu.c.value,
        func.row_number().over(
            partition_by=(fu.c.proc_id, pts.c.point, fu.c.instrument),
            order_by=(func.abs(fu.c.days - pts.c.target), fu.c.days, fu.c.value)).label("rank"),
    ).join(pts, and_(fu.c.days >= pts.c.low, fu.c.days <= pts.c.high)).subquery("ranked_fu")
    nearest = (select(ranked.c.proc_id, ranked.c.point,
                      func.max(case((ranked.c.instrument == "nrs", ranked.c.value))).label("nrs"),
                      func.max(case((ranked.c.instrument == "odi", ranked.c.value))).label("odi"),
                      func.max(case((ranked.c.instrument == "relief", ranked.c.value)))
                      .label("relief"),
                      func.max(case((ranked.c.instrument == "pgic", ranked.c.value)))
                      .label("pgic"))
               .where(ranked.c.rank == 1).group_by(ranked.c.proc_id, ranked.c.point)
               .subquery("nearest"))
    due = (select(procs.c.id, procs.c.kind, pts.c.point)
           .join(pts, days_between(literal(as_of, Date), procs.c.date) > pts.c.high)
           .subquery("due"))
    pair = (select(due.c.kind, due.c.point, nearest.c.proc_id.label("answered"),
                   base.c.nrs.label("nrs_b"), nearest.c.nrs.label("nrs_f"),
                   base.c.odi.label("odi_b"), nearest.c.odi.label("odi_f"),
                   nearest.c.pgic.label("pgic_f"), nearest.c.relief.label("relief_f"))
            .select_from(due)
            .outerjoin(nearest, and_(nearest.c.proc_id == due.c.id,
                                     nearest.c.point == due.c.point))
            .outerjoin(base, base.c.proc_id == due.c.id).subquery("pair"))
    nrs_drop, odi_drop = pair.c.nrs_b - pair.c.nrs_f, pair.c.odi_b - pair.c.odi_f
    nrs_pair = and_(pair.c.nrs_b > 0, pair.c.nrs_f.is_not(None))
    entered = pair.c.relief_f.is_not(None)  # an outcome record's relief wins over the NRS
    odi_pair = and_(pair.c.odi_b > 0, pair.c.odi_f.is_not(None))

    def count(condition) -> ColumnElement:
        return func.sum(case((condition, 1), else_=0))

    def total(condition, value) -> ColumnElement:
        return func.sum(case((condition, value), else_=0.0))

    relief = load_registry().durability_relief_percent
    nrs_mcid, odi_mcid = outcomes.nrs.mcid, outcomes.odi.mcid
    return (select(
        pair.c.kind, pair.c.point,
        func.count().label("due"),
        func.count(pair.c.answered).label("answered"),
        count(nrs_pair).label("nrs_pairs"),
        count(or_(entered, nrs_pair)).label("relief_judged"),
        count(case((entered, pair.c.relief_f >= relief),
                   else_=and_(nrs_pair, nrs_drop * 100 >= relief * pair.c.nrs_b)))
        .label("relief_50"),
        count(and_(nrs_pair, or_(nrs_drop >= nrs_mcid.points,
                                 nrs_drop * 100 >= nrs_mcid.percent * pair.c.nrs_b)))
        .label("nrs_mcid"),
        count(odi_pair).label("odi_pairs"),
        count(and_(odi_pair, or_(odi_drop >= odi_mcid.points,
                                 odi_drop * 100 >= odi_mcid.percent * pair.c.odi_b)))
        .label("odi_mcid"),
        count(pair.c.pgic_f.is_not(None)).label("pgic_answers"),
        count(pair.c.pgic_f <= outcomes.pgic.responder_at_most).label("pgic"),
        total(nrs_pair, -nrs_drop).label("nrs_change_sum"),
        total(nrs_pair, nrs_drop * nrs_drop).label("nrs_change_squares"),
        total(odi_pair, -odi_drop).label("odi_change_sum"),
        total(odi_pair, odi_drop * odi_drop).label("odi_change_squares"),
    ).group_by(pair.c.kind, pair.c.point).order_by(pair.c.kind, pair.c.point))


def durability_rows(tables: Tables, filters: Filters) -> Select:
    """Per kind, (days, lost, count): relief lasts from the procedure until the first follow-up
    (NRS against the baseline, or an outcome record's relief) below the durability threshold
    or a repeat procedure, else is censored at the last follow-up."""
    registry = load_registry()
    relief = registry.durability_relief_percent
    # a subquery, so the baseline below can use the index on the PROMs' episode
    procs, s = procedures(tables, filters), scores(tables, odi_too=False).subquery("scores")
    fu = _follow_ups(tables, procs, s)
    # the NRS baseline as a scalar per procedure: the planners estimate it well (a ranked
    # subquery joined here made PostgreSQL pick a nested loop over it); materialized, or
    # PostgreSQL runs the scalar query again for every follow-up it is compared with
    baseline = (select(s.c.value).where(
        s.c.episode_id == procs.c.episode_id, s.c.instrument == "nrs", s.c.date <= procs.c.date,
        days_between(procs.c.date, s.c.date) <= registry.baseline_days)
        .order_by(s.c.date.desc(), s.c.value.desc()).limit(1).scalar_subquery())
    based = (select(procs.c.id, baseline.label("nrs")).cte("based")
             .prefix_with("MATERIALIZED"))
    from_nrs = (select(fu.c.proc_id, fu.c.days,
                       ((based.c.nrs - fu.c.value) * 100.0 / based.c.nrs).label("relief"))
                .join(based, based.c.id == fu.c.proc_id)
                .where(fu.c.instrument == "nrs", based.c.nrs > 0))
    entered = select(fu.c.proc_id, fu.c.days, fu.c.value).where(fu.c.instrument == "relief")
    seen = union_all(from_nrs, entered).subquery("seen")
    per_proc = (select(
        procs.c.id, procs.c.kind,
        func.min(case((seen.c.relief < relief, seen.c.days))).label("first_lost"),
        func.max(seen.c.days).label("last_seen"),
        days_between(func.max(procs.c.next_date), func.max(procs.c.date)).label("repeat"))
        .join(seen, seen.c.proc_id == procs.c.id)
        .group_by(procs.c.id, procs.c.kind).subquery("per_proc"))
    ended = func.coalesce(
        case((per_proc.c.repeat < per_proc.c.first_lost, per_proc.c.repeat),
             else_=per_proc.c.first_lost), per_proc.c.repeat)
    days = func.coalesce(ended, per_proc.c.last_seen).label("days")
    event = case((ended.is_not(None), 1), else_=0).label("lost")
    return (select(per_proc.c.kind, days, event, func.count().label("n"))
            .group_by(per_proc.c.kind, days, event)
            .order_by(per_proc.c.kind, days, event))

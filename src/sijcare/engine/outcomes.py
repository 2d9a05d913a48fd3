"""Latest questionnaire results with baseline, change and minimal important change."""

from __future__ import annotations

from datetime import date

from sijcare.engine.facts import Facts
from sijcare.engine.memo import shared
from sijcare.instruments.odi import mcid_reached, score_odi
from sijcare.knowledge import Knowledge
from sijcare.model.assessment import NrsOutcome, OdiOutcome, Outcomes, PgicOutcome
from sijcare.model.case import Case, Prom
from sijcare.numbers import exact, round_half_up


def _entries(case: Case, instrument: str) -> list[Prom]:
    return sorted((p for p in case.proms or [] if p.instrument == instrument),
                  key=lambda p: p.date)


def odi_outcome(case: Case, kb: Knowledge) -> OdiOutcome | None:
    entries = _entries(case, "odi")
    if not entries:
        return None
    first, latest = entries[0], entries[-1]
    earlier = tuple(first.answers or []) if len(entries) > 1 else None
    return _odi(kb, latest.date, tuple(latest.answers or []), earlier)


@shared(maxsize=4096)
def _odi(kb: Knowledge, day: date, answers: tuple[int | None, ...],
         first: tuple[int | None, ...] | None) -> OdiOutcome:
    """The latest ODI, with baseline, change and MCID when an earlier entry exists."""
    rule = kb.outcomes.odi
    latest = score_odi(list(answers), rule)
    result = OdiOutcome(score=latest.score, band=latest.band, answered=latest.answered,
                        date=day)
    if first is None:
        return result
    baseline = score_odi(list(first), rule).score
    if baseline is None or latest.score is None:
        return result.model_copy(update={"baseline": baseline})
    return result.model_copy(update={
        "baseline": baseline,
        "change": round_half_up(exact(latest.score) - exact(baseline), 1),
        "mcid_reached": mcid_reached(baseline, latest.score, rule.mcid.points, rule.mcid.percent),
    })


def nrs_outcome(case: Case, kb: Knowledge) -> NrsOutcome | None:
    entries = _entries(case, "nrs")
    if not entries:
        return None
    earlier = entries[0].value if len(entries) > 1 else None
    return _nrs(kb, entries[-1].date, entries[-1].value, earlier)


@shared(maxsize=4096)
def _nrs(kb: Knowledge, day: date, value: float, baseline: float | None) -> NrsOutcome:
    """The latest pain NRS, with baseline, change and MCID when an earlier entry exists."""
    rule = kb.outcomes.nrs
    result = NrsOutcome(value=value, date=day)
    if baseline is None:
        return result
    return result.model_copy(update={
        "baseline": baseline,
        "change": round_half_up(exact(value) - exact(baseline), 1),
        "mcid_reached": mcid_reached(baseline, value, rule.mcid.points, rule.mcid.percent),
    })


def pgic_outcome(case: Case, kb: Knowledge) -> PgicOutcome | None:
    """The latest PGIC; 'much' or 'very much improved' (value <= 2) is a responder."""
    entries = _entries(case, "pgic")
    if not entries:
        return None
    latest = entries[-1]
    value = int(latest.value)
    return PgicOutcome(value=value, date=latest.date,
                       responder=value <= kb.outcomes.pgic.responder_at_most)


def outcomes(f: Facts) -> Outcomes:
    return Outcomes(odi=odi_outcome(f.case, f.kb), nrs=nrs_outcome(f.case, f.kb),
                    pgic=pgic_outcome(f.case, f.kb))

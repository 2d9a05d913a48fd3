"""Latest questionnaire results with baseline, change and minimal important change."""

from __future__ import annotations

from sijcare.engine.facts import Facts
from sijcare.instruments.odi import mcid_reached, score_odi
from sijcare.knowledge import Knowledge
from sijcare.model.assessment import NrsOutcome, OdiOutcome, Outcomes
from sijcare.model.case import Case, Prom
from sijcare.numbers import exact, round_half_up


def _entries(case: Case, instrument: str) -> list[Prom]:
    return sorted((p for p in case.proms or [] if p.instrument == instrument),
                  key=lambda p: p.date)


def odi_outcome(case: Case, kb: Knowledge) -> OdiOutcome | None:
    rule = kb.outcomes.odi
    entries = _entries(case, "odi")
    if not entries:
        return None
    scored = [(p, score_odi(p.answers or [], rule)) for p in entries]
    latest_prom, latest = scored[-1]
    result = OdiOutcome(score=latest.score, band=latest.band, answered=latest.answered,
                        date=latest_prom.date)
    if len(scored) < 2:
        return result
    baseline = scored[0][1].score
    if baseline is None or latest.score is None:
        return result.model_copy(update={"baseline": baseline})
    return result.model_copy(update={
        "baseline": baseline,
        "change": round_half_up(exact(latest.score) - exact(baseline), 1),
        "mcid_reached": mcid_reached(baseline, latest.score, rule.mcid.points, rule.mcid.percent),
    })


def nrs_outcome(case: Case, kb: Knowledge) -> NrsOutcome | None:
    rule = kb.outcomes.nrs
    entries = _entries(case, "nrs")
    if not entries:
        return None
    latest = entries[-1]
    result = NrsOutcome(value=latest.value, date=latest.date)
    if len(entries) < 2:
        return result
    baseline = entries[0].value
    return result.model_copy(update={
        "baseline": baseline,
        "change": round_half_up(exact(latest.value) - exact(baseline), 1),
        "mcid_reached": mcid_reached(baseline, latest.value, rule.mcid.points, rule.mcid.percent),
    })


def outcomes(f: Facts) -> Outcomes:
    return Outcomes(odi=odi_outcome(f.case, f.kb), nrs=nrs_outcome(f.case, f.kb))

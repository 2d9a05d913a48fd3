"""What a visit note carries when a clinic sends it: the letterhead (clinic name, address,
phone from the settings), the signer's name and credentials, the examination, the pain onset
and the NRS and ODI from the first entry to the latest, and the addenda under the signature."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import Request

from sijcare.engine.provocation_count import count_provocation
from sijcare.instruments.odi import score_odi
from sijcare.knowledge import load_knowledge
from sijcare.labels import inline
from sijcare.model.case import Case


@dataclass(frozen=True)
class Letterhead:
    name: str
    address: str
    phone: str


@dataclass(frozen=True)
class NoteFacts:
    pain_onset: dt.date | None
    examination: tuple[str, ...]  # one line each: the provocation tests, then the others
    scores: tuple[tuple[str, str], ...]  # (instrument, "7 on 2026-01-02, now 3 on ...")


def letterhead(request: Request) -> Letterhead:
    settings = request.app.state.settings
    return Letterhead(settings.clinic_name, settings.clinic_address, settings.clinic_phone)


def _examination(case: Case) -> tuple[str, ...]:
    exam = case.exam
    if exam is None:
        return ("Not recorded.",)
    lines = []
    if exam.provocation is not None:
        results = exam.provocation.model_dump()
        named = {found: ", ".join(inline(t) for t, r in results.items() if r == found)
                 for found in ("positive", "negative")}
        lines.append(f"Provocation tests: {count_provocation(results.values()).words}"
                     + "".join(f"; {found}: {tests}" for found, tests in named.items() if tests)
                     + ".")
    for name, value in (("straight_leg_raise", exam.straight_leg_raise),
                        ("neuro_deficit", exam.neuro_deficit),
                        ("hip_rotation_pain", exam.hip_rotation_pain)):
        if value is not None:
            shown = value if isinstance(value, str) else ("present" if value else "absent")
            lines.append(f"{inline(name).capitalize()}: {shown}.")
    return tuple(lines) or ("Not recorded.",)


def _scores(case: Case) -> tuple[tuple[str, str], ...]:
    rule = load_knowledge().outcomes.odi
    series: dict[str, list[tuple[dt.date, float]]] = {}
    for prom in sorted(case.proms or [], key=lambda p: p.date):
        if prom.instrument == "odi" and prom.answers is not None:
            value = score_odi(list(prom.answers), rule).score
        else:
            value = prom.value
        if value is not None and prom.instrument in ("nrs", "odi"):
            series.setdefault(prom.instrument, []).append((prom.date, float(value)))
    shown = []
    for instrument, name, unit in (("nrs", "Pain NRS", " of 10"), ("odi", "ODI", "%")):
        points = series.get(instrument)
        if not points:
            continue
        (first_day, first), (last_day, last) = points[0], points[-1]
        text = f"{first:g}{unit} on {first_day.isoformat()}"
        if len(points) > 1:
            text += f", latest {last:g}{unit} on {last_day.isoformat()}"
        shown.append((name, text))
    return tuple(shown)


def note_facts(case: Case | None) -> NoteFacts | None:
    """The note's findings from the case it states the stage of (None: no valid case)."""
    if case is None:
        return None
    onset = case.history.pain_onset if case.history else None
    return NoteFacts(onset, _examination(case), _scores(case))

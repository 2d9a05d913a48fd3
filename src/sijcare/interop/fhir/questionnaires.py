"""The questionnaires as FHIR Questionnaires: ODI, NRS, PGIC and the public self-check.

Items carry codes and short labels. The ODI's section statements are Jeremy Fairbank's
copyright: they appear only when the clinic hands in its licensed text (`odi_text`, the
sections of `SIJCARE_ODI_TEXT_FILE`), else each section is its title and the 0-5 scale.
"""

from __future__ import annotations

from typing import Any, get_args

from sijcare.instruments import odi, pgic
from sijcare.interop.fhir.base import Resource, canonical, meta, own
from sijcare.knowledge.terminology import load_terminology
from sijcare.labels import label
from sijcare.model.case import PainAreas
from sijcare.model.screen import RedFlagAnswers, ScreenAnswers

INSTRUMENTS = ("odi", "nrs", "pgic", "self_screen")
VERSION = "1"


def questionnaire_url(instrument: str) -> str:
    return canonical(f"Questionnaire/{instrument.replace('_', '-')}")


def _questionnaire(instrument: str, items: list[dict[str, Any]]) -> Resource:
    code = load_terminology().codings(instrument) or [own(instrument)]
    return {
        "resourceType": "Questionnaire", "id": instrument.replace("_", "-"),
        "meta": meta("questionnaire"), "url": questionnaire_url(instrument),
        "version": VERSION, "name": instrument.replace("_", " ").title().replace(" ", ""),
        "title": label(instrument), "status": "active", "subjectType": ["Patient"],
        "code": code, "item": items,
    }


def answer(instrument: str, value: int, words: dict[int, str] | None = None) -> dict[str, str]:
    """An ODI or PGIC answer as a Coding: the number is the code (what scoring reads)."""
    return {"system": canonical(f"CodeSystem/{instrument}-answer"), "code": str(value),
            "display": (words or {}).get(value, str(value))}


def _integer(instrument: str, link_id: str, text: str, low: int, high: int,
             words: dict[int, str] | None = None) -> dict[str, Any]:
    options = [{"valueCoding": answer(instrument, v, words)} for v in range(low, high + 1)]
    return {"linkId": link_id, "text": text, "type": "choice", "answerOption": options}


def odi_questionnaire(licensed: list[dict[str, Any]] | None = None) -> Resource:
    """Ten sections, each answered 0-5; `licensed` gives each section's title and its six
    statements (the clinic's licensed text), else the titles alone."""
    items = []
    for number, title in enumerate(odi.SECTIONS, start=1):
        section = licensed[number - 1] if licensed else None
        words = dict(enumerate(section["choices"])) if section else None
        items.append(_integer("odi", f"odi-{number}", section["title"] if section else title,
                              0, 5, words))
    return _questionnaire("odi", items)


def nrs_questionnaire() -> Resource:
    item = {"linkId": "nrs", "text": label("nrs"), "type": "integer",
            "code": load_terminology().codings("nrs")}
    return _questionnaire("nrs", [item])


def pgic_questionnaire() -> Resource:
    return _questionnaire("pgic", [_integer("pgic", "pgic", label("pgic"), 1, 7, pgic.ANSWERS)])


def _choice(link_id: str, answers: tuple[str, ...]) -> dict[str, Any]:
    return {"linkId": link_id, "text": label(link_id), "type": "choice", "required": True,
            "answerOption": [{"valueCoding": own(answer)} for answer in answers]}


def self_screen_questionnaire() -> Resource:
    """The public self-check (model/screen.py's answers), each question by its id."""
    flags = [_choice(name, ("yes", "no", "unsure")) for name in RedFlagAnswers.model_fields]
    for item in flags:
        item["required"] = RedFlagAnswers.model_fields[item["linkId"]].is_required()
    areas = [{"linkId": f"pain_areas.{area}", "text": label(area), "type": "decimal"}
             for area in PainAreas.model_fields]
    pain = []
    for name in ("points_one_finger_near_psis", "groin_pain", "worse_sitting_on_chair",
                 "below_knee", "foot_numbness_or_tingling"):
        answers = get_args(get_args(ScreenAnswers.model_fields[name].annotation)[0])
        pain.append(_choice(name, answers))
    items = [
        {"linkId": "answered_on", "text": label("answered_on"), "type": "date",
         "required": True},
        {"linkId": "red_flags", "text": label("red_flags"), "type": "group", "item": flags},
        {"linkId": "pain_started", "text": label("pain_started"), "type": "date"},
        {"linkId": "duration_months", "text": label("duration_months"), "type": "decimal"},
        {"linkId": "pain_areas", "text": label("pain_areas"), "type": "group", "item": areas},
        *pain,
        {"linkId": "tried", "text": label("tried"), "type": "string", "repeats": True},
    ]
    return _questionnaire("self_screen", items)


def questionnaires(licensed_odi: list[dict[str, Any]] | None = None) -> list[Resource]:
    return [odi_questionnaire(licensed_odi), nrs_questionnaire(), pgic_questionnaire(),
            self_screen_questionnaire()]

"""The self-check ("Could my pain be coming from my SI joint?") over the engine's self-screen.

Plain forms in steps, no JavaScript needed: warning signs first, on their own; any urgent
answer shows only the urgent-care page; then the pain questions; then the result in plain
words, headed by a call to a doctor or nurse line when a warning sign was "not sure".
Answers travel in the posted forms (never in URLs or cookies) and nothing is stored unless
the person goes on to ask for an appointment.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from sijcare.engine.screen import self_screen
from sijcare.knowledge import load_knowledge
from sijcare.model.loading import CaseError
from sijcare.model.screen import ScreenAnswers, ScreenResult, parse_screen
from sijcare.screen_questions import (
    AREAS,
    PAIN_QUESTIONS,
    RED_FLAG_QUESTIONS,
    TRIED,
    UNSURE_ALLOWED,
)
from sijcare.web.deps import SubmittedForm
from sijcare.web.public.page import render_public
from sijcare.web.strict import parse_number

router = APIRouter(include_in_schema=False)
MAX_CARRIED = 4000  # bytes of answers carried from step to step


def _red_flags(form: FormData) -> dict[str, str]:
    return {key: str(form[f"red_flags.{key}"]) for key in RED_FLAG_QUESTIONS
            if form.get(f"red_flags.{key}")}


def _number(text: str) -> float | str:
    try:
        return parse_number(text)
    except ValueError:
        return text  # the engine names the field and says a number is expected


def answers_from(form: FormData, today: dt.date) -> dict[str, Any]:
    """The answers as the engine's format, from the posted fields; blanks stay absent."""
    data: dict[str, Any] = {"answered_on": today.isoformat(), "red_flags": _red_flags(form)}
    for key in PAIN_QUESTIONS:
        if form.get(key):
            data[key] = str(form[key])
    if started := str(form.get("pain_started", "")).strip():
        data["pain_started"] = started
    if months := str(form.get("duration_months", "")).strip():
        data["duration_months"] = _number(months)
    shares = {key: str(form.get(f"pain_areas.{key}", "")).strip() for key in AREAS}
    if any(shares.values()):
        data["pain_areas"] = {key: _number(value or "0") for key, value in shares.items()}
    tried = [str(t) for t in form.getlist("tried") if str(t) in TRIED]
    if tried or form.get("tried_asked"):
        data["tried"] = tried
    return data


def _field_of(problem: str) -> tuple[str, str]:
    path, _, message = problem.partition(": ")
    return (path, message) if message else ("", problem)


LABELS = {**{f"red_flags.{k}": q for k, q in RED_FLAG_QUESTIONS.items()}, **PAIN_QUESTIONS,
          **{f"pain_areas.{k}": f"Share: {v}" for k, v in AREAS.items()},
          "pain_areas": "The shares of your pain", "pain_started": "When the pain started",
          "duration_months": "How many months", "": "Your answers"}


def _errors(error: CaseError) -> dict[str, str]:
    """Problems by input name, worded for the person (no field paths)."""
    found: dict[str, str] = {}
    for problem in error.problems:
        path, message = _field_of(problem)
        if path.startswith("pain_started") or "duration_months" in message:
            path = "pain_started"
        message = message.replace("pain_started", "the start date").replace(
            "duration_months", "the number of months").replace("answered_on", "today")
        if message == "is required" or message.startswith("got None"):
            message = "please answer this question"
        found.setdefault(path if path in LABELS else "", message)
    return found


def _urgent_only(request: Request, result: ScreenResult) -> Response:
    return render_public(request, "public/screen_urgent.html", {"result": result})


@router.get("/screen", name="screen.start")
def screen_start(request: Request) -> Response:
    return render_public(request, "public/screen_flags.html", {
        "questions": RED_FLAG_QUESTIONS, "values": {}, "errors": {}})


@router.post("/screen/warning-signs", name="screen.flags")
def screen_flags(request: Request, form: SubmittedForm) -> Response:
    """Step 1 answered: urgent care now, or on to the pain questions."""
    values = _red_flags(form)
    missing = {f"red_flags.{k}": "please answer this question" for k in RED_FLAG_QUESTIONS
               if values.get(k) not in ("yes", "no", "unsure")}
    if missing:
        return render_public(request, "public/screen_flags.html", {
            "questions": RED_FLAG_QUESTIONS, "values": values, "errors": missing,
            "labels": LABELS}, status_code=422)
    placeholder = {**_neutral_pain_answers(), "red_flags": values,
                   "answered_on": dt.date.today().isoformat()}
    result = self_screen(parse_screen(placeholder))
    if result.result == "seek_urgent_care":
        return _urgent_only(request, result)
    return _pain_step(request, values, {}, {})


def _neutral_pain_answers() -> dict[str, Any]:
    """Neutral pain answers, so that the engine alone judges the warning signs of step 1."""
    return {"duration_months": 0, **{k: "no" for k in PAIN_QUESTIONS}}


def _pain_step(request: Request, flags: dict[str, str], values: dict[str, Any],
               errors: dict[str, str], status_code: int = 200) -> Response:
    return render_public(request, "public/screen_pain.html", {
        "flags": flags, "values": values, "errors": errors, "labels": LABELS,
        "questions": PAIN_QUESTIONS, "unsure_allowed": UNSURE_ALLOWED, "areas": AREAS,
        "tried": TRIED}, status_code=status_code)


@router.post("/screen/result", name="screen.result")
def screen_result(request: Request, form: SubmittedForm) -> Response:
    data = answers_from(form, dt.date.today())
    try:
        answers = parse_screen(data, strict=True)
    except CaseError as error:
        values = {k: str(v) for k, v in form.multi_items() if k != "tried"}
        values["tried"] = form.getlist("tried")
        return _pain_step(request, data["red_flags"], values, _errors(error), 422)
    result = self_screen(answers)
    if result.result == "seek_urgent_care":
        return _urgent_only(request, result)
    return render_public(request, "public/screen_result.html", {
        "result": result, "fits": fitting_answers(answers),
        "carried": carry(answers), "kb_texts": load_knowledge().screen.texts})


def fitting_answers(answers: ScreenAnswers) -> list[str]:
    """The questions whose "yes" counts toward the score (the knowledge base's items)."""
    items = load_knowledge().screen.self_score_items
    return [PAIN_QUESTIONS[key] for key in items if getattr(answers, key) == "yes"]


def carry(answers: ScreenAnswers) -> str:
    """The answers as JSON for a hidden field of the appointment form."""
    return json.dumps(answers.model_dump(mode="json", exclude_none=True), sort_keys=True)


def carried_answers(text: str | None) -> ScreenAnswers | None:
    """Answers carried in a form, checked again like any input (None if absent or bad)."""
    if not text or len(text) > MAX_CARRIED:
        return None
    try:
        return parse_screen(json.loads(text))
    except (ValueError, CaseError):
        return None

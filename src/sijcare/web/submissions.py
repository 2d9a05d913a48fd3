"""From a submitted form to record data for the store, keeping what the user typed.

Reading a form never saves anything: it returns the typed values (to refill the form), the
errors by input name, and drafts whose data the store validates. Blank stays absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from sijcare.web.forms import NONE_OF_THESE, FormField, RecordForm

FORM_LEVEL = ""  # the key for errors that belong to no single input
Value = str | list[str]


@dataclass
class Draft:
    """One record to save; `inputs` maps a data path to the input it came from."""

    data: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Submission:
    values: dict[str, Value]
    errors: dict[str, str]
    drafts: list[Draft]
    recorded_on: date | None


def attach(problems: list[tuple[str, str]], errors: dict[str, str], names: Iterable[str],
           inputs: dict[str, str] | None = None) -> None:
    """Put each store-reported `(path, message)` next to the input it came from.

    A path names an input directly, through the draft's `inputs` map, or as the parent of
    inputs (`pain_areas` -> its first share); anything else is shown above the form.
    """
    names = list(names)
    for path, message in problems:
        name = (inputs or {}).get(path)
        if name is None and path:
            name = ((path if path in names else None)
                    or next((n for n in names if n.startswith(path + ".")), None))
        if name:
            errors.setdefault(name, message)
        else:
            line = f"{path}: {message}" if path else message
            errors[FORM_LEVEL] = "; ".join(filter(None, [errors.get(FORM_LEVEL), line]))


def parse_date(text: str) -> date:
    if len(text) != 10:
        raise ValueError
    return date.fromisoformat(text)


def _read(spec: FormField, raw: Value) -> Any:
    """The typed value of one input; raises ValueError with a sentence for the user."""
    if spec.kind == "multi":
        picked = list(raw) if isinstance(raw, list) else []
        if not picked:
            return None
        if NONE_OF_THESE in picked:
            if len(picked) > 1:
                raise ValueError("tick 'none of these' or the ones present, not both")
            return []
        allowed = {value for value, _ in spec.choices}
        if any(p not in allowed for p in picked):
            raise ValueError("tick only the listed options")
        return picked
    text = raw.strip() if isinstance(raw, str) else ""
    if text == "":
        return None
    if spec.kind == "date":
        try:
            return parse_date(text).isoformat()
        except ValueError:
            raise ValueError("enter a real date as YYYY-MM-DD") from None
    if spec.kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("enter a number") from None
        return int(number) if number.is_integer() else number
    if spec.kind == "text":
        return text
    if spec.kind == "password":
        return raw
    if spec.kind == "tristate":
        if text not in ("yes", "no"):
            raise ValueError("choose yes, no or not recorded")
        return text == "yes"
    if text not in {value for value, _ in spec.choices}:
        raise ValueError("choose one of the listed options")
    return text


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


def read_fields(fields: list[FormField], raw: FormData
                ) -> tuple[dict[str, Value], dict[str, str], dict[str, Any]]:
    """What was typed, what is wrong with it, and the nested data of the rest."""
    values: dict[str, Value] = {}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    for spec in fields:
        values[spec.name] = (raw.getlist(spec.name) if spec.kind == "multi"
                             else str(raw.get(spec.name) or ""))
        try:
            value = _read(spec, values[spec.name])
        except ValueError as problem:
            errors[spec.name] = str(problem)
            continue
        if value is not None:
            _put(data, spec.name, value)
    return values, errors, data


def read_form(form: RecordForm, raw: FormData) -> Submission:
    """Values, errors and drafts for one submitted record form."""
    values, errors, data = read_fields(form.fields(), raw)
    recorded_on = data.pop("recorded_on", None)
    if recorded_on is None and "recorded_on" not in errors:
        errors["recorded_on"] = "enter the date of the visit"
    drafts = FINISH.get(form.kind, _single)(data, errors)
    if not drafts and not errors:
        errors[FORM_LEVEL] = "Nothing was entered: fill in at least one field."
    return Submission(values, errors, drafts,
                      date.fromisoformat(recorded_on) if recorded_on else None)


def _single(data: dict[str, Any], errors: dict[str, str]) -> list[Draft]:
    return [Draft(data)] if data else []


def _block(data: dict[str, Any], errors: dict[str, str]) -> list[Draft]:
    """The diary inputs (`diary.0` is the baseline) become the store's list of ratings."""
    timed = sorted((int(m), pain) for m, pain in data.pop("diary", {}).items())
    if timed:
        data["diary"] = [{"minutes": m, "pain": pain} for m, pain in timed]
    inputs = {"diary": "diary.0"}
    for i, (m, _) in enumerate(timed):
        inputs.update({f"diary[{i}]": f"diary.{m}", f"diary[{i}].pain": f"diary.{m}",
                       f"diary[{i}].minutes": f"diary.{m}"})
    return [Draft(data, inputs)] if data else []


def _prom(data: dict[str, Any], errors: dict[str, str]) -> list[Draft]:
    """One entry per questionnaire filled in, all on the same date."""
    when = data.get("date")
    drafts = []
    answers = data.get("odi", {})
    if answers:
        drafts.append(Draft(
            {"date": when, "instrument": "odi",
             "answers": [None if (a := answers.get(str(i))) is None else int(a)
                         for i in range(1, 11)]},
            {"": "odi.1", "answers": "odi.1",
             **{f"answers[{i - 1}]": f"odi.{i}" for i in range(1, 11)}}))
    for instrument in ("nrs", "pgic"):
        if instrument in data:
            value = data[instrument]
            drafts.append(Draft({"date": when, "instrument": instrument,
                                 "value": int(value) if instrument == "pgic" else value},
                                {"": instrument, "value": instrument}))
    if drafts and when is None and "date" not in errors:
        errors["date"] = "enter the date the questionnaires were answered"
    return drafts


FINISH = {"block": _block, "prom": _prom}

"""From a submitted form to record data for the store, keeping what the user typed.

Reading a form never saves anything: it returns the typed values (to refill the form), the
errors by input name, and drafts whose data the store validates. Blank stays absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from sijcare.web.forms import (
    FILL_NEGATIVE,
    FIRST_VISIT,
    FIRST_VISIT_PARTS,
    NONE_OF_THESE,
    FormField,
    RecordForm,
)
from sijcare.web.strict import parse_number

FORM_LEVEL = ""  # the key for errors that belong to no single input
Value = str | list[str]


@dataclass
class Draft:
    """One record to save; `inputs` maps a data path to the input it came from (without the
    `prefix` its inputs carry in a combined form); `kind` None: the form's own kind."""

    data: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    prefix: str = ""


@dataclass
class Submission:
    values: dict[str, Value]
    errors: dict[str, str]
    drafts: list[Draft]
    recorded_on: date | None


# The validation library's sentences, as a clinician would say them.
_PLAIN: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), words) for
                                                        pattern, words in (
    (r"^Input should be less than or equal to (\S+)$", r"must be \1 or less"),
    (r"^Input should be greater than or equal to (\S+)$", r"must be \1 or more"),
    (r"^Input should be greater than (\S+)$", r"must be more than \1"),
    (r"^Input should be less than (\S+)$", r"must be less than \1"),
    (r"^Input should be a valid integer.*$", "enter a whole number"),
    (r"^Input should be a valid (number|decimal).*$", "enter a number"),
    (r"^Input should be a valid boolean.*$", "choose yes or no"),
    (r"^String should have at least 1 character$", "cannot be left blank"),
    (r"^String should have at most (\d+) characters?$", r"at most \1 characters"),
    (r"^String should match pattern .*$", "use lower-case letters, digits and _ only"),
    (r"^List should have at least (\d+) items?.*$", r"needs at least \1 entries"),
    (r"^got .*; input should be .*$", "choose one of the listed options"),
))


def plain(message: str) -> str:
    """A validation message in plain words (`must be 10 or less`, not `Input should be...`)."""
    for pattern, words in _PLAIN:
        if pattern.match(message):
            return pattern.sub(words, message)
    return message


def attach(problems: list[tuple[str, str]], errors: dict[str, str], names: Iterable[str],
           inputs: dict[str, str] | None = None, prefix: str = "") -> None:
    """Put each store-reported `(path, message)` next to the input it came from.

    A path names an input directly, through the draft's `inputs` map, or as the parent of
    inputs (`pain_areas` -> its first share); anything else is shown above the form. In a
    combined form, only the inputs named `prefix...` are the record's, and keep the prefix.
    """
    names = [n.removeprefix(prefix) for n in names if n.startswith(prefix)]
    for path, message in problems:
        message = plain(message)
        name = (inputs or {}).get(path)
        if name is None and path:
            name = ((path if path in names else None)
                    or next((n for n in names if n.startswith(path + ".")), None))
        if name:
            errors.setdefault(prefix + name, message)
        else:
            line = f"{path}: {message}" if path else message
            errors[FORM_LEVEL] = "; ".join(filter(None, [errors.get(FORM_LEVEL), line]))


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> date:
    """Only YYYY-MM-DD: `date.fromisoformat` also takes week dates (2024-W01-1)."""
    if not ISO_DAY.fullmatch(text):
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
        return parse_number(text)
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
    return int(text) if spec.whole else text


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
    """Values, errors and drafts for one submitted record form (or the first visit's)."""
    values, errors, data = read_fields(form.fields(), raw)
    recorded_on = data.pop("recorded_on", None)
    if recorded_on is None and "recorded_on" not in errors:
        errors["recorded_on"] = "enter the date of the visit"
    if form.kind == FIRST_VISIT:
        drafts = _first_visit(data, errors, recorded_on)
    else:
        drafts = FINISH.get(form.kind, _single)(data, errors)
    if not drafts and not errors:
        errors[FORM_LEVEL] = "Nothing was entered: fill in at least one field."
    return Submission(values, errors, drafts,
                      date.fromisoformat(recorded_on) if recorded_on else None)


def _first_visit(data: dict[str, Any], errors: dict[str, str],
                 recorded_on: str | None) -> list[Draft]:
    """A draft per part filled in; the questionnaires are dated by the visit."""
    drafts = []
    for kind, _ in FIRST_VISIT_PARTS:
        part = data.get(kind)
        if not part:
            continue
        if kind == "prom":
            part["date"] = recorded_on
        part_errors: dict[str, str] = {}
        for draft in FINISH.get(kind, _single)(part, part_errors):
            drafts.append(Draft(draft.data, draft.inputs, kind, kind + "."))
        if kind == "prom":
            part_errors.pop("date", None)  # the visit's date, asked (and reported) once
        errors.update({f"{kind}.{name}" if name else name: message
                       for name, message in part_errors.items()})
    return drafts


def fill(form: RecordForm, values: dict[str, Value], how: str) -> dict[str, Value]:
    """The typed values with every provocation test set at once ("all negative", "all not
    performed"): a plain form button, so the helpers work without JavaScript."""
    filled = dict(values)
    prefix = "exam." if form.kind == FIRST_VISIT else ""
    for spec in form.fields():
        test = spec.name.removeprefix(prefix)
        if spec.kind == "radio" and test.startswith("provocation.") and test.endswith(".result"):
            filled[spec.name] = FILL_NEGATIVE if how == FILL_NEGATIVE else ""
            if how != FILL_NEGATIVE:
                filled[spec.name.removesuffix("result") + "familiar_pain"] = ""
    return filled


def _typed(spec: FormField, value: Any) -> Value:
    """A stored value as its input shows it (the inverse of `_read`)."""
    if spec.kind == "multi":
        return [NONE_OF_THESE] if value == [] else list(value)
    if spec.kind == "tristate":
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def values_from(fields: list[FormField], data: dict[str, Any], names: Iterable[str],
                prefix: str = "") -> dict[str, Value]:
    """Input values for the fields `names` (paths in `data`), as the form shows them."""
    wanted = {prefix + name for name in names}
    values: dict[str, Value] = {}
    for spec in fields:
        if spec.name not in wanted:
            continue
        value: Any = data
        for key in spec.name.removeprefix(prefix).split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            values[spec.name] = _typed(spec, value)
    return values


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
             "answers": [answers.get(str(i)) for i in range(1, 11)]},
            {"": "odi.1", "answers": "odi.1",
             **{f"answers[{i - 1}]": f"odi.{i}" for i in range(1, 11)}}))
    for instrument in ("nrs", "pgic"):
        if instrument in data:
            drafts.append(Draft({"date": when, "instrument": instrument,
                                 "value": data[instrument]},
                                {"": instrument, "value": instrument}))
    if drafts and when is None and "date" not in errors:
        errors["date"] = "enter the date the questionnaires were answered"
    return drafts


FINISH = {"block": _block, "prom": _prom}

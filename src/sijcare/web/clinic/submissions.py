"""From a submitted record form (or the first visit's) to drafts for the store.

The generic reading of inputs (`web.submissions.read_fields`) keeps what was typed and the
errors by input; here the record forms' own shapes become store records: the block's timed
diary, one entry per questionnaire, one draft per part of the first visit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from sijcare.web.clinic.forms import FILL_NEGATIVE, FIRST_VISIT, FIRST_VISIT_PARTS
from sijcare.web.forms import NONE_OF_THESE, FormField, RecordForm
from sijcare.web.submissions import FORM_LEVEL, Value, read_fields


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
            inputs = {**draft.inputs, "date": "recorded_on"} if kind == "prom" else draft.inputs
            drafts.append(Draft(draft.data, inputs, kind, kind + "."))
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

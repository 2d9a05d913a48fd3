"""Procedure outcomes: how a procedure worked out, recorded at each follow-up over time.

A procedure's relief is no longer typed once on the procedure itself: each outcome record is
dated and attached to one procedure, and the case of a day takes the procedure's
`relief_percent`, `relief_weeks` and `relief_ongoing` from the outcomes known that day
(`relief_as_of`), so an assessment of any past day still reproduces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, Field, model_validator
from sqlalchemy.orm import Session

from sijcare.model.case import IsoDate, Number, Pain, Percent, Procedure, Record, _no_bool
from sijcare.model.plausibility import relief_overrun
from sijcare.store.models import MAX_ROW_ID, ProcedureRecord

COMPLICATIONS_FILE = Path(__file__).with_name("complications.yaml")
RELIEF_FIELDS = ("relief_percent", "relief_weeks", "relief_ongoing")


@cache
def complications() -> dict[str, dict[str, str]]:
    """The complication codes an outcome may carry, with the ICHOM code where one fits."""
    entries = yaml.safe_load(COMPLICATIONS_FILE.read_text(encoding="utf-8"))
    return {entry["code"]: entry for entry in entries}


Complication = Literal[tuple(complications())]  # type: ignore[valid-type]
Pgic = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=7)]


def relief_from_nrs(before: float, after: float) -> float:
    """Relief in percent of the pain before: a rating no lower than before is no relief."""
    return round(max(0.0, (before - after) / before * 100), 1)


class ProcedureOutcomeForm(Record):
    """One follow-up of a procedure. Relief is computed from the pain before the procedure and
    at follow-up (both NRS 0-10) when both are given, else entered as a percent."""

    procedure_id: Annotated[int, Field(ge=1, le=MAX_ROW_ID), BeforeValidator(_no_bool)]
    date: IsoDate
    nrs_before: Pain | None = None
    nrs_after: Pain | None = None
    relief_percent: Percent | None = None
    relief_weeks: Annotated[Number, Field(ge=0, le=1040)] | None = None
    relief_ongoing: bool | None = None
    pgic: Pgic | None = None
    complications: list[Complication] | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _consistent(self) -> ProcedureOutcomeForm:
        if (self.nrs_before is None) != (self.nrs_after is None):
            raise ValueError("give both nrs_before and nrs_after (or neither) to compute relief")
        if self.nrs_before is not None and self.nrs_after is not None:
            if self.nrs_before == 0:
                raise ValueError("nrs_before is 0, so no relief can be measured")
            derived = relief_from_nrs(self.nrs_before, self.nrs_after)
            if self.relief_percent is not None and abs(self.relief_percent - derived) > 0.05:
                raise ValueError(f"relief_percent {self.relief_percent:g} does not match the NRS "
                                 f"before and after ({derived:g}%); give one or the other")
        recorded = (self.relief, self.relief_weeks, self.relief_ongoing, self.pgic,
                    self.complications)
        if all(value is None for value in recorded):
            raise ValueError("record relief, how long it lasted, PGIC or complications")
        return self

    @property
    def relief(self) -> float | None:
        """The relief in percent: from the two NRS ratings, else as entered."""
        if self.nrs_before is not None and self.nrs_after is not None:
            return relief_from_nrs(self.nrs_before, self.nrs_after)
        return self.relief_percent


def procedure_problems(session: Session, episode_id: int, form: ProcedureOutcomeForm,
                       recorded_on: dt.date) -> list[tuple[str, str]]:
    """What is wrong with the procedure an outcome names: not this episode's, entered in error,
    or after the outcome's date; or relief that lasted longer than the time from the
    procedure to the outcome's date."""
    procedure = session.get(ProcedureRecord, form.procedure_id)
    if procedure is None or procedure.episode_id != episode_id:
        return [("procedure_id", f"this episode has no procedure {form.procedure_id}")]
    if procedure.voided_on is not None and procedure.voided_on <= recorded_on:
        return [("procedure_id", "that procedure was marked entered in error")]
    if form.date < procedure.date:
        return [("date", f"{form.date} is before the procedure ({procedure.date})")]
    if problem := relief_overrun(form.relief_weeks, procedure.date, form.date):
        return [("relief_weeks", problem)]  # the engine refuses relief longer than that
    return []


def initial_outcome(procedure: Any, common: dict[str, Any]) -> dict[str, Any] | None:
    """Relief typed on the procedure form itself: the columns of the procedure's first outcome,
    dated the day it was recorded (what was known then); None when no relief was typed."""
    values = {name: getattr(procedure, name) for name in RELIEF_FIELDS}
    if all(value is None for value in values.values()):
        return None
    return {"date": common["recorded_on"], **values, **common}


def relief_as_of(procedure: Procedure, outcomes: Iterable[ProcedureOutcomeForm]) -> Procedure:
    """The procedure with its relief from its outcomes (oldest first): the latest outcome giving
    a relief percent sets it, and the latest giving a duration sets `relief_weeks` and
    `relief_ongoing` together (so a later "lasted 14 weeks" ends an earlier "ongoing")."""
    relief: dict[str, Any] = {name: None for name in RELIEF_FIELDS}
    for outcome in outcomes:
        if outcome.relief is not None:
            relief["relief_percent"] = outcome.relief
        if outcome.relief_weeks is not None or outcome.relief_ongoing is not None:
            relief["relief_weeks"] = outcome.relief_weeks
            relief["relief_ongoing"] = outcome.relief_ongoing
    return procedure.model_copy(update=relief)

"""Each record kind: its form, its table, the column that dates it, and the mapping between them.

Forms are nested (an exam's tenderness, a block's diary); tables are flat typed columns plus
child rows. `columns`/`children` go one way (used by single writes and bulk inserts alike),
`load` the other, so a stored record reads back as the form it was saved from.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from sijcare.engine.provocation_count import count_provocation
from sijcare.model.case import PainAreas, Provocation, Tenderness
from sijcare.model.plausibility import pregnant_male, relief_overrun
from sijcare.store import forms, outcomes
from sijcare.store.models import (
    Base,
    BlockDiaryEntry,
    BlockRecord,
    CareCourseRecord,
    Episode,
    ExamRecord,
    ImagingRecord,
    IntakeRecord,
    MedicationsRecord,
    ProcedureOutcome,
    ProcedureRecord,
    PromAnswer,
    PromRecord,
    ProvocationResult,
    RecordRow,
)


class Kind(ABC):
    """A record kind; by default form fields and table columns share their names."""

    name: ClassVar[str]
    form: ClassVar[type[BaseModel]]
    row: ClassVar[type[RecordRow]]
    dated_by: ClassVar[str] = "date"  # the column placing the record in time
    case_field: ClassVar[str | None] = None  # the Case list it joins; None: the latest one wins
    flattened: ClassVar[tuple[str, str, type[BaseModel]] | None] = None  # (field, prefix, model)
    child: ClassVar[tuple[type[Base], str, str] | None] = None  # (table, relationship, key)

    def columns(self, form: Any) -> dict[str, Any]:
        values = {k: v for k, v in form if k in self.row.__table__.c}
        if self.flattened:
            field, prefix, model = self.flattened
            nested = getattr(form, field)
            for key in model.model_fields:
                values[prefix + key] = getattr(nested, key) if nested else None
        return values

    def children(self, form: Any) -> list[dict[str, Any]]:
        return []

    def load(self, row: Any) -> dict[str, Any]:
        data = {k: getattr(row, k) for k in self.form.model_fields if k in self.row.__table__.c}
        if self.flattened:
            field, prefix, model = self.flattened
            nested = {key: getattr(row, prefix + key) for key in model.model_fields}
            data[field] = nested if any(v is not None for v in nested.values()) else None
        return data

    def build(self, form: Any, **common: Any) -> RecordRow:
        row = self.row(**self.columns(form), **common)
        if self.child:
            table, relationship, _ = self.child
            setattr(row, relationship, [table(**values) for values in self.children(form)])
        return row

    def problems(self, session: Session, episode_id: int, form: Any,
                 recorded_on: dt.date) -> list[tuple[str, str]]:
        """What the form cannot know alone (e.g. whether a record it names exists)."""
        return []

    def summary_among(self, form: Any, procedures: Mapping[int, str]) -> str:
        """The summary on the episode's timeline, where `procedures` names each procedure of
        the episode by id (only an outcome needs it)."""
        return self.summary(form)

    @abstractmethod
    def summary(self, form: Any) -> str:
        """One line for the episode's timeline."""


class IntakeKind(Kind):
    name, form, row, dated_by = "intake", forms.IntakeForm, IntakeRecord, "recorded_on"
    flattened = ("pain_areas", "area_", PainAreas)

    def problems(self, session: Session, episode_id: int, form: forms.IntakeForm,
                 recorded_on: dt.date) -> list[tuple[str, str]]:
        """A pregnancy only for a patient not recorded as male (the engine refuses it)."""
        episode = session.get(Episode, episode_id)
        problem = pregnant_male(form.pregnant, episode.patient.sex if episode else None)
        return [("pregnant", problem)] if problem else []

    def summary(self, form: forms.IntakeForm) -> str:
        parts = [f"pain {form.pain_nrs:g}/10" if form.pain_nrs is not None else None,
                 form.side, f"since {form.pain_onset}" if form.pain_onset else None,
                 f"red flags: {', '.join(form.red_flags)}" if form.red_flags else None]
        return "History: " + (", ".join(p for p in parts if p) or "recorded")


class ExamKind(Kind):
    name, form, row, dated_by = "exam", forms.ExamForm, ExamRecord, "recorded_on"
    flattened = ("tenderness", "tender_", Tenderness)
    child = (ProvocationResult, "provocation", "exam_id")

    def children(self, form: forms.ExamForm) -> list[dict[str, Any]]:
        return [{"test": test, **finding.model_dump()}
                for test, finding in (form.provocation or {}).items()]

    def load(self, row: ExamRecord) -> dict[str, Any]:
        tests = {t.test: {"result": t.result, "side": t.side, "familiar_pain": t.familiar_pain}
                 for t in row.provocation}
        return {**super().load(row), "provocation": tests or None}

    def summary(self, form: forms.ExamForm) -> str:
        tests = form.engine().provocation or Provocation()  # every test, None: not performed
        count = count_provocation(tests.model_dump().values())
        return f"Examination: provocation tests {count.words}"


class ImagingKind(Kind):
    name, form, row = "imaging", forms.ImagingForm, ImagingRecord
    case_field = "imaging"

    def summary(self, form: forms.ImagingForm) -> str:
        findings = ", ".join(form.findings) if form.findings else "no findings listed"
        where = f" of the {form.region}" if form.region else ""
        return f"Imaging: {form.modality}{where}, {findings}"


class CareCourseKind(Kind):
    name, form, row, dated_by = "care_course", forms.CareCourseForm, CareCourseRecord, "start"
    case_field = "conservative_care"

    def summary(self, form: forms.CareCourseForm) -> str:
        until = f"to {form.end}" if form.end else "(ongoing)"
        return f"Conservative care: {form.type} from {form.start} {until}"


class BlockKind(Kind):
    name, form, row = "block", forms.BlockForm, BlockRecord
    case_field = "blocks"
    child = (BlockDiaryEntry, "diary", "block_id")

    def children(self, form: forms.BlockForm) -> list[dict[str, Any]]:
        return [entry.model_dump() for entry in form.diary]

    def load(self, row: BlockRecord) -> dict[str, Any]:
        diary = [{"minutes": e.minutes, "pain": e.pain} for e in row.diary]
        return {**super().load(row), "diary": diary}

    def summary(self, form: forms.BlockForm) -> str:
        block = form.engine()
        return (f"Diagnostic block ({block.guidance}): pain {block.pain_before:g} before, "
                f"{block.pain_after:g} at best after")


class ProcedureKind(Kind):
    name, form, row = "procedure", forms.ProcedureForm, ProcedureRecord
    case_field = "procedures"

    def problems(self, session: Session, episode_id: int, form: forms.ProcedureForm,
                 recorded_on: dt.date) -> list[tuple[str, str]]:
        """Relief typed with the procedure is known on the day it is recorded, so it cannot
        have lasted longer than the time since the procedure (the engine refuses it)."""
        problem = relief_overrun(form.relief_weeks, form.date, recorded_on)
        return [("relief_weeks", problem)] if problem else []

    def build(self, form: forms.ProcedureForm, **common: Any) -> RecordRow:
        """Relief typed with the procedure becomes its first outcome (see `outcomes`)."""
        row = super().build(form, **common)
        first = outcomes.initial_outcome(form, common)
        if first:
            row.outcomes = [ProcedureOutcome(**first)]
        return row

    def summary(self, form: forms.ProcedureForm) -> str:
        side = f" ({form.side})" if form.side else ""
        return f"Procedure: {form.kind}{side}"


class ProcedureOutcomeKind(Kind):
    name, form, row = "procedure_outcome", outcomes.ProcedureOutcomeForm, ProcedureOutcome

    def columns(self, form: outcomes.ProcedureOutcomeForm) -> dict[str, Any]:
        return {**super().columns(form), "relief_percent": form.relief}

    def problems(self, session: Session, episode_id: int, form: outcomes.ProcedureOutcomeForm,
                 recorded_on: dt.date) -> list[tuple[str, str]]:
        return outcomes.procedure_problems(session, episode_id, form, recorded_on)

    def summary(self, form: outcomes.ProcedureOutcomeForm, procedure: str | None = None) -> str:
        """`procedure` names the procedure followed up by kind and date (`summary_among`, from
        the episode's records); without it the procedure is named by its id."""
        parts = [f"{form.relief:g}% relief" if form.relief is not None else None,
                 (f"{form.relief_weeks:g} weeks" + (" so far" if form.relief_ongoing else ""))
                 if form.relief_weeks is not None else None,
                 f"PGIC {form.pgic}" if form.pgic else None,
                 ("complications: " + (", ".join(form.complications) or "none"))
                 if form.complications is not None else None]
        return (f"Procedure outcome ({procedure or f'procedure {form.procedure_id}'}): "
                + ", ".join(p for p in parts if p))

    def summary_among(self, form: outcomes.ProcedureOutcomeForm,
                      procedures: Mapping[int, str]) -> str:
        return self.summary(form, procedures.get(form.procedure_id))


class PromKind(Kind):
    name, form, row = "prom", forms.PromForm, PromRecord
    case_field = "proms"
    child = (PromAnswer, "answers", "prom_id")

    def children(self, form: forms.PromForm) -> list[dict[str, Any]]:
        return [{"section": i, "answer": a} for i, a in enumerate(form.answers or [], start=1)]

    def load(self, row: PromRecord) -> dict[str, Any]:
        return {**super().load(row), "answers": [a.answer for a in row.answers] or None}

    def summary(self, form: forms.PromForm) -> str:
        if form.answers is not None:
            answered = sum(a is not None for a in form.answers)
            return f"ODI: {answered} of {len(form.answers)} sections answered"
        return f"{form.instrument.upper()}: {form.value:g}"


class MedicationsKind(Kind):
    name, form, row = "medications", forms.MedicationsForm, MedicationsRecord
    dated_by = "recorded_on"

    def summary(self, form: forms.MedicationsForm) -> str:
        parts = []
        if form.anticoagulant is not None:
            parts.append("anticoagulated" if form.anticoagulant else "no anticoagulant")
        if form.anticoagulant_plan is not None:
            parts.append("peri-procedural plan documented" if form.anticoagulant_plan
                         else "no peri-procedural plan")
        if form.allergies is not None:
            parts.append(f"allergies: {', '.join(form.allergies) or 'none'}")
        return "Medications: " + "; ".join(parts)


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    IntakeKind(), ExamKind(), ImagingKind(), CareCourseKind(), BlockKind(), ProcedureKind(),
    PromKind(), MedicationsKind(), ProcedureOutcomeKind(),
)}

"""The public self-screen: what a member of the public answers, and what comes back.

The answers are strict like a case: every red-flag question must be answered, unknown keys are
errors, and a date after `answered_on` cannot have happened. YAML 1.1 readers turn unquoted
`yes`/`no` into booleans, so `true`/`false` are accepted for those words.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sijcare.model.assessment import Out, Reason
from sijcare.model.case import IsoDate, Number, PainAreas, Record, Text
from sijcare.model.loading import CaseError, problems_of

YES_NO_WORDS = {True: "yes", False: "no"}


def _word(value: object) -> object:
    """`true`/`false` (YAML 1.1 `yes`/`no`) become the words the format uses."""
    return YES_NO_WORDS[value] if isinstance(value, bool) else value


YesNo = Annotated[Literal["yes", "no"], BeforeValidator(_word)]
YesNoUnsure = Annotated[Literal["yes", "no", "unsure"], BeforeValidator(_word)]


class RedFlagAnswers(Record):
    """The warning-sign questions; each v2 question must be answered (`unsure` is an answer).

    The two v3 questions are optional, so answers given before they were asked stay valid.
    """

    saddle_numbness: YesNoUnsure
    bladder_or_bowel_change: YesNoUnsure
    leg_weakness_worsening: YesNoUnsure
    fever_or_unwell: YesNoUnsure
    cancer_history: YesNoUnsure
    unexplained_weight_loss: YesNoUnsure
    major_fall_or_accident: YesNoUnsure
    weak_immune_system: YesNoUnsure | None = None
    fall_with_thin_bones: YesNoUnsure | None = None


class ScreenAnswers(Record):
    """One person's answers, given on `answered_on`."""

    answered_on: IsoDate
    red_flags: RedFlagAnswers
    pain_started: IsoDate | None = None
    duration_months: Annotated[Number, Field(ge=0, le=1200)] | None = None
    pain_areas: PainAreas | None = None
    points_one_finger_near_psis: YesNoUnsure
    groin_pain: YesNo
    worse_sitting_on_chair: YesNo
    below_knee: YesNo
    foot_numbness_or_tingling: YesNo
    tried: list[Text] | None = None

    @model_validator(mode="after")
    def _one_duration(self) -> ScreenAnswers:
        if self.pain_started is None and self.duration_months is None:
            raise ValueError("pain_started: is required (or give duration_months)")
        if self.pain_started is not None and self.duration_months is not None:
            raise ValueError("give pain_started or duration_months, not both")
        return self

    @field_validator("pain_started")
    @classmethod
    def _started_by_answered_on(cls, value: date | None, info: ValidationInfo) -> date | None:
        """Checked as a field, so it is reported beside every other problem."""
        answered_on = info.data.get("answered_on")
        if value is not None and answered_on is not None and value > answered_on:
            raise ValueError(f"{value} is after answered_on {answered_on}")
        return value


ScreenOutcome = Literal["seek_urgent_care", "fits_sij", "exam_decides", "unlikely_sij"]
NextStep = Literal["urgent_care", "call_doctor", "appointment", "primary_care"]
OtherSource = Literal["nerve_root", "lumbar_spine"]


def _absent(value: object) -> bool:
    return value is None


# Left out of the output when the rule that fills it did not run (urgent care stops at rule 1).
Unless = Field(default=None, exclude_if=_absent)


class ScreenResult(Out):
    """What the self-screen says: never a diagnosis, always the next step and why."""

    result: ScreenOutcome
    emergency: bool | None = Unless
    self_score: int | None = Unless
    exam_points_possible: int | None = Unless
    other_sources: list[OtherSource] | None = Unless
    duration_months: int | float | None = Unless
    recent: bool | None = Unless
    next_step: NextStep
    reasons: list[Reason]


def parse_screen(data: Any, strict: bool = False) -> ScreenAnswers:
    """Validate parsed answers; raise `CaseError` with one `path: problem` line each.

    `strict`: numbers only as numbers (a web form's text that is not one stays text and is
    refused here, where lax validation would read `1_2` as 12)."""
    if not isinstance(data, dict):
        raise CaseError(["the answers must be a mapping of fields (a YAML or JSON object)"])
    try:
        return ScreenAnswers.model_validate(data, strict=strict)
    except ValidationError as error:
        raise CaseError([f"{path}: {message}" if path else message
                         for path, message in problems_of(error, "the self-screen")]) from None

"""The `Case`: everything recorded about one patient's SI-joint episode, as of one date.

Absent fields mean *not recorded* and stay `None`; an empty list means *recorded as none*.
The engine relies on that difference ("unknown is not negative"), so no field here has a
default that would invent a fact.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from sijcare.model.plausibility import implausibilities

_YYYY_MM_DD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # the rules reach ~2 years around


def _iso_date(value: object) -> object:
    """Accept `date` objects or strict `YYYY-MM-DD` strings, nothing looser (`fromisoformat`
    alone also takes week dates such as `2026-W01-1`), between 1900 and 2999: outside that a
    date is a typing slip (`0001-01-01`), and the rules' windows would leave the calendar."""
    if isinstance(value, str):
        if not _YYYY_MM_DD.fullmatch(value):
            raise ValueError("is not a real date in the form YYYY-MM-DD")
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a real date in the form YYYY-MM-DD") from None
    if not isinstance(value, date):
        raise ValueError("expected a date written YYYY-MM-DD")
    if value < EARLIEST:
        raise ValueError(f"is before {EARLIEST}: not a plausible date")
    if value > LATEST:
        raise ValueError(f"is after {LATEST}: not a plausible date")
    return value


def _no_bool(value: object) -> object:
    """YAML `yes`/`true` must not silently become the number 1."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


def _number(value: object) -> object:
    """A number as recorded; 7.0 (as databases return it) is the whole number 7."""
    value = _no_bool(value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema(
    {"type": "string", "format": "date", "pattern": f"^{_YYYY_MM_DD.pattern}$"})]
Number = Annotated[int | float, BeforeValidator(_number)]
Pain = Annotated[Number, Field(ge=0, le=10)]
Percent = Annotated[Number, Field(ge=0, le=100)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]  # coded value
Text = Annotated[str, Field(min_length=1, max_length=60)]  # a short free description

Side = Literal["left", "right", "bilateral"]
TestResult = Literal["positive", "negative"]
Guidance = Literal["fluoroscopy", "ct", "ultrasound", "none"]
ProcedureKind = Literal[
    "steroid_injection", "prolotherapy", "prp", "rfa_conventional", "rfa_cooled", "mis_fusion"
]
RedFlag = Literal[
    "saddle_anesthesia", "bladder_dysfunction", "bowel_dysfunction", "progressive_neuro_deficit",
    "fever", "immunosuppression", "iv_drug_use", "cancer_history", "unexplained_weight_loss",
    "major_trauma", "osteoporotic_fracture_risk",
]
SpaFeature = Literal[
    "onset_before_35", "wakes_second_half_of_night", "buttock_pain", "improves_with_movement",
    "improves_with_nsaids_48h", "family_history_spa", "arthritis", "enthesitis", "psoriasis",
]
Allergy = Literal["contrast", "local_anesthetic", "corticosteroid", "latex"]


class Record(BaseModel):
    """Strict base: unknown keys are typos or unsupported facts, both worth an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Patient(Record):
    id: Annotated[str, Field(min_length=1, max_length=120)]
    birth_date: IsoDate | None = None
    age: Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=130)] | None = None
    sex: Literal["female", "male", "other", "unknown"] | None = None
    pregnant: bool | None = None


class PainAreas(Record):
    """Share of the whole complaint by region, in percent; the given shares sum to 100."""

    axial_low_back: Percent | None = None
    sij_region: Percent | None = None
    buttock_leg: Percent | None = None
    groin_anterior_thigh: Percent | None = None

    @model_validator(mode="after")
    def _sums_to_100(self) -> PainAreas:
        shares = [v for v in self.model_dump().values() if v is not None]
        if shares and abs(sum(shares) - 100) > 0.5:
            raise ValueError(f"the shares must sum to 100, they sum to {sum(shares):g}")
        return self


class History(Record):
    pain_onset: IsoDate | None = None
    pain_duration_months: Annotated[Number, Field(ge=0, le=1200)] | None = None
    pain_nrs: Pain | None = None
    side: Side | None = None
    pain_areas: PainAreas | None = None
    below_l5: bool | None = None
    below_knee: bool | None = None
    fortin_finger: bool | None = None
    aggravating: list[Name] | None = None
    relieving: list[Name] | None = None
    onset: (
        Literal[
            "trauma", "pregnancy", "post_lumbar_fusion", "insidious", "repetitive_stress", "other"
        ]
        | None
    ) = None
    red_flags: list[RedFlag] | None = None
    spa_features: list[SpaFeature] | None = None
    generalized_pain_disorder: bool | None = None


class CareCourse(Record):
    """One course of conservative care; `end` absent means still ongoing."""

    type: Text
    start: IsoDate
    end: IsoDate | None = None

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        """On the end itself, so that it is reported even when other fields are wrong."""
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise ValueError(f"is before the start ({start})")
        return end


class Tenderness(Record):
    psis: bool | None = None
    long_posterior_sacroiliac_ligament: bool | None = None
    sacrotuberous_ligament: bool | None = None
    sacral_sulcus: bool | None = None


class Provocation(Record):
    """Provocation tests; an absent test was not performed."""

    distraction: TestResult | None = None
    thigh_thrust: TestResult | None = None
    compression: TestResult | None = None
    sacral_thrust: TestResult | None = None
    gaenslen_left: TestResult | None = None
    gaenslen_right: TestResult | None = None
    faber: TestResult | None = None
    yeoman: TestResult | None = None


class Exam(Record):
    provocation: Provocation | None = None
    tenderness: Tenderness | None = None
    straight_leg_raise: TestResult | None = None
    neuro_deficit: bool | None = None
    hip_rotation_pain: bool | None = None


class Imaging(Record):
    date: IsoDate
    modality: Literal["xray", "ct", "mri", "ultrasound", "bone_scan", "spect_ct", "pet_ct"]
    region: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=20)] | None = None
    findings: list[Text] | None = None
    excludes_other_causes: bool | None = None


class DiaryEntry(Record):
    """One timed pain rating after a diagnostic block (0 = baseline before the block)."""

    minutes: Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=24 * 60)]
    pain: Pain


class Block(Record):
    """A diagnostic anaesthetic block, with the pain before and at best after."""

    date: IsoDate
    side: Side | None = None
    target: Literal[
        "intra_articular", "periarticular", "extra_articular", "lateral_branch"] | None = None
    guidance: Guidance
    contrast: bool | None = None
    agent: Text | None = None
    pain_before: Annotated[Pain, Field(gt=0)]
    pain_after: Pain
    diary: list[DiaryEntry] | None = None


class Procedure(Record):
    date: IsoDate
    kind: ProcedureKind
    side: Side | None = None
    guidance: Guidance | None = None
    relief_percent: Percent | None = None
    relief_weeks: Annotated[Number, Field(ge=0, le=1040)] | None = None
    relief_ongoing: bool | None = None


class Medications(Record):
    anticoagulant: bool | None = None
    anticoagulant_plan: bool | None = None  # a peri-procedural plan (hold or bridge) agreed


class Prom(Record):
    """A questionnaire answered on a date: ODI answers, or an NRS/PGIC value."""

    date: IsoDate
    instrument: Literal["odi", "nrs", "pgic"]
    answers: list[Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=5)] | None] | None = (
        None
    )
    value: Number | None = Field(None, description="NRS 0-10, or PGIC 1-7 (a whole number)",
                                 json_schema_extra={"minimum": 0, "maximum": 10})

    @model_validator(mode="after")
    def _fits_instrument(self) -> Prom:
        if self.instrument == "odi":
            if self.answers is None or len(self.answers) != 10:
                raise ValueError(
                    "an ODI needs 'answers': a list of 10 sections (null if unanswered)")
            if self.value is not None:
                raise ValueError("an ODI is given by 'answers', not 'value'")
        else:
            low, high = (0, 10) if self.instrument == "nrs" else (1, 7)
            if self.value is None or not low <= self.value <= high:
                raise ValueError(f"{self.instrument} needs 'value' between {low} and {high}")
            if self.instrument == "pgic" and not isinstance(self.value, int):
                raise ValueError(f"pgic needs a whole-number 'value' from {low} to {high}")
            if self.answers is not None:
                raise ValueError(f"{self.instrument} is given by 'value', not 'answers'")
        return self


class UnreviewedFact(Record):
    """An imported record no clinician has reviewed yet. `counted` names the facts of it that
    count already (those that can stop an option: `allergy:corticosteroid`, `anticoagulant`,
    `red_flag:cancer_history`, `pregnant`, `procedure:mis_fusion`); the rest of it counts
    only once a clinician accepts it."""

    kind: Name
    record_id: Annotated[int, Field(ge=1, le=2**31 - 1)]  # a database row id
    counted: list[Annotated[str, Field(max_length=60)]] = Field(default_factory=list)


class Case(Record):
    """The engine's whole input. `as_of` fixes the date every window counts back from."""

    schema_version: Literal[1] = 1
    as_of: IsoDate
    patient: Patient
    history: History | None = None
    conservative_care: list[CareCourse] | None = None
    exam: Exam | None = None
    imaging: list[Imaging] | None = None
    blocks: list[Block] | None = None
    procedures: list[Procedure] | None = None
    medications: Medications | None = None
    allergies: list[Allergy] | None = None
    proms: list[Prom] | None = None
    unreviewed: list[UnreviewedFact] | None = None  # imported, not yet reviewed
    # The same day without its unreviewed records: what may open an option (issue 23's
    # safety rule). Set with `unreviewed`; the engine lets no check read better than here.
    reviewed: Case | None = None

    @field_validator("schema_version", mode="before")
    @classmethod
    def _known_version(cls, value: object) -> object:
        if value != 1 or isinstance(value, bool):
            raise ValueError("only schema_version 1 is supported")
        return value

    @model_validator(mode="after")
    def _reviewed_is_the_same_case_before_review(self) -> Case:
        """A case's reviewed part holds no unreviewed records and no reviewed part of its own,
        and describes the same patient on the same day."""
        part = self.reviewed
        if part is not None and (part.unreviewed or part.reviewed or part.as_of != self.as_of
                                 or part.patient.id != self.patient.id):
            raise ValidationError.from_exception_data("Case", [InitErrorDetails(
                type=PydanticCustomError("value_error", "must be the same patient on the same "
                                         "day, without unreviewed records"),
                loc=("reviewed",), input=None)])
        return self

    @model_validator(mode="after")
    def _could_have_happened(self) -> Case:
        """Facts that contradict each other or the calendar are input errors, one per field."""
        found = implausibilities(self)
        if found:
            raise ValidationError.from_exception_data("Case", [
                InitErrorDetails(type=PydanticCustomError("value_error", problem), loc=loc,
                                 input=None)
                for loc, problem in found])
        return self

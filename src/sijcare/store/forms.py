"""What a form or JSON body may send for each record, built from the engine's own models.

Each form extends an engine model (`History`, `Exam`, `Block`...) with what the clinic records
beyond the engine's needs (a test's side and familiar pain, a block's diary, a procedure's
injectate) and turns back into it with `engine()`: a record the store accepts is one the engine
accepts. Absent fields stay `None` (not recorded); `[]` means recorded as none.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sijcare.knowledge import load_knowledge
from sijcare.model.case import (
    Allergy,
    Block,
    CareCourse,
    DiaryEntry,
    Exam,
    History,
    Imaging,
    IsoDate,
    Medications,
    Name,
    Procedure,
    Prom,
    Provocation,
    Record,
    Side,
    TestResult,
)
from sijcare.model.case import Patient as CasePatient
from sijcare.store.contacts import checked_email, checked_phone
from sijcare.store.plausible import EMAIL

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ProvocationTest = Literal[tuple(Provocation.model_fields)]  # type: ignore[valid-type]
Sex = get_args(CasePatient.model_fields["sex"].annotation)[0]  # the engine's Literal, not None


class IntakeForm(History):
    """The history; pregnancy is asked at intake but the engine keeps it on the patient."""

    pregnant: bool | None = None

    def engine(self) -> History:
        return History(**self.model_dump(exclude={"pregnant"}))


def _shorthand(value: object) -> object:
    """`"positive"` is short for `{"result": "positive"}`, the engine's own spelling."""
    return {"result": value} if isinstance(value, str) else value


class ProvocationFinding(Record):
    """A test counts as positive only when it reproduces the patient's familiar pain."""

    result: TestResult
    side: Side | None = None
    familiar_pain: bool | None = None

    @model_validator(mode="after")
    def _positive_is_familiar(self) -> ProvocationFinding:
        if self.result == "positive" and self.familiar_pain is False:
            raise ValueError("a test that did not reproduce the familiar pain is not positive")
        return self


class ExamForm(Exam):
    provocation: (
        dict[ProvocationTest, Annotated[ProvocationFinding, BeforeValidator(_shorthand)]] | None
    ) = None

    def engine(self) -> Exam:
        tests = None if self.provocation is None else Provocation(
            **{test: finding.result for test, finding in self.provocation.items()})
        return Exam(**self.model_dump(exclude={"provocation"}), provocation=tests)


class ImagingForm(Imaging):
    def engine(self) -> Imaging:
        return Imaging(**self.model_dump())


class CareCourseForm(CareCourse):
    def engine(self) -> CareCourse:
        return CareCourse(**self.model_dump())


class BlockForm(Block):
    """A block is recorded by its timed pain diary (minutes 0 = baseline before the block).

    The engine's `pain_before` is the baseline and `pain_after` the lowest rating after it:
    the best relief the block gave, which is what a diagnostic block is read by.
    """

    pain_before: None = Field(default=None, exclude=True)
    pain_after: None = Field(default=None, exclude=True)
    diary: Annotated[list[DiaryEntry], Field(min_length=2)]

    @field_validator("pain_before", "pain_after", mode="before")
    @classmethod
    def _derived(cls, value: object) -> None:
        raise ValueError("is derived from the diary (baseline, then the lowest later rating); "
                         "record the diary instead")

    @field_validator("diary")
    @classmethod
    def _baseline_then_ratings(cls, diary: list[DiaryEntry]) -> list[DiaryEntry]:
        times = [entry.minutes for entry in diary]
        if len(set(times)) != len(times):
            raise ValueError("each time (minutes) may appear only once")
        ordered = sorted(diary, key=lambda entry: entry.minutes)
        if ordered[0].minutes != 0:
            raise ValueError("needs the baseline rating before the block, at minutes 0")
        if ordered[0].pain == 0:
            raise ValueError("the baseline pain is 0, so no relief can be measured")
        return ordered

    def engine(self) -> Block:
        baseline, *after = self.diary
        return Block(**self.model_dump(exclude={"diary"}), diary=self.diary,
                     pain_before=baseline.pain, pain_after=min(entry.pain for entry in after))


class ProcedureForm(Procedure):
    injectate: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=200)] | None = None
    complications: list[Name] | None = None

    def engine(self) -> Procedure:
        return Procedure(**self.model_dump(exclude={"injectate", "complications"}))


class PromForm(Prom):
    def engine(self) -> Prom:
        return Prom(**self.model_dump())


class MedicationsForm(Medications):
    """Medication reconciliation; the engine reads anticoagulation (with its peri-procedural
    plan) and allergies from it."""

    allergies: list[Allergy] | None = None

    @field_validator("anticoagulant_plan")
    @classmethod
    def _plan_for_an_anticoagulant(cls, plan: bool | None, info: ValidationInfo) -> bool | None:
        if plan is not None and info.data.get("anticoagulant") is not True:
            raise ValueError("is asked only when the patient takes an anticoagulant")
        return plan

    @model_validator(mode="after")
    def _something_recorded(self) -> MedicationsForm:
        if self.anticoagulant is None and self.allergies is None:
            raise ValueError("record 'anticoagulant' or 'allergies' (an empty list: none)")
        return self

    def engine(self) -> Medications:
        return Medications(anticoagulant=self.anticoagulant,
                           anticoagulant_plan=self.anticoagulant_plan)


class NoneForm(Record):
    """`{"none": true}`: the clinician confirms there is none of this kind (e.g. no imaging)."""

    none: Literal[True]


OLDEST_AGE = 130  # the engine's limit on a patient's age


class PatientForm(Record):
    given_name: Text
    family_name: Text
    birth_date: IsoDate
    sex: Sex  # type: ignore[valid-type]
    external_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                  max_length=120)] | None = None
    payer: Name | None = None  # a policy id; it selects the policy episodes open under
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40),
                     AfterValidator(checked_phone)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254),
                     AfterValidator(checked_email)] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=300)] | None = None

    @field_validator("birth_date")
    @classmethod
    def _born_already(cls, born: date) -> date:
        today = date.today()
        if born > today:
            raise ValueError(f"{born} is in the future; a date of birth must be today or "
                             "earlier")
        if today.year - born.year > OLDEST_AGE:
            raise ValueError(f"{born} would make the patient older than {OLDEST_AGE} years")
        return born

    @field_validator("payer")
    @classmethod
    def _known_payer(cls, payer: str | None) -> str | None:
        policies = load_knowledge().policies
        if payer is not None and payer not in policies:
            raise ValueError(f"'{payer}' is not a policy; one of: {', '.join(policies)}")
        return payer


CORRECTABLE = tuple(PatientForm.model_fields)  # every demographic can be corrected


class EpisodeForm(Record):
    complaint: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=200)]
    opened_on: IsoDate
    closed_on: IsoDate | None = None

    @model_validator(mode="after")
    def _closes_after_opening(self) -> EpisodeForm:
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise ValueError(f"closed_on {self.closed_on} is before opened_on {self.opened_on}")
        return self


def _folded(value: object) -> object:
    """Usernames are case-insensitive: stored and looked up in lower case."""
    return value.strip().lower() if isinstance(value, str) else value


def _one_mailbox(value: str) -> str:
    """A user's address for security notices: one mailbox, no header injection."""
    if len(value) > 254 or not EMAIL.match(value):
        raise ValueError("is not one email address (like name@example.org)")
    return value


class UserForm(Record):
    username: Annotated[str, BeforeValidator(_folded),
                        StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{1,59}$")]
    password_hash: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    role: Name
    clinic_ids: list[int]
    email: Annotated[str, AfterValidator(_one_mailbox)] | None = None


def dump(form: Record) -> dict[str, Any]:
    """A form as plain JSON-ready data, in the shape it was accepted in."""
    return form.model_dump(mode="json", exclude_none=True)

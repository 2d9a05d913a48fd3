"""The `Assessment`: what the engine concludes about a `Case`, each part with its reasons."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sijcare.model.case import UnreviewedFact

Status = Literal["met", "not_met", "unknown", "not_covered"]
CriterionStatus = Literal["met", "not_met", "unknown"]
Severity = Literal["block", "warn", "info"]
StageId = Literal[
    "urgent_referral", "evaluate_other_source", "complete_examination", "conservative_care",
    "diagnostic_block", "maintenance", "surgical_evaluation", "interventional_treatment",
]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Reason(Out):
    """Why: the rule that fired, in plain words, with its inputs and sources."""

    rule: str
    text: str
    sources: tuple[str, ...] = ()
    inputs: dict[str, object] = Field(default_factory=dict)
    provisional: bool = False


class RedFlagFinding(Out):
    id: str
    reasons: list[Reason]


class ClusterResult(Out):
    rule: str
    performed: int
    positive: int
    result: Literal["positive", "negative", "incomplete"]
    tests: dict[str, str | None]


class PooledLikelihood(Out):
    """The posterior again with a meta-analysis' pooled ratio, beside the study's own."""

    source: str
    likelihood_ratio: float
    posterior: float


class Likelihood(Out):
    prior: float
    posterior: float
    likelihood_ratio: float
    cluster: ClusterResult
    reasons: list[Reason]
    pooled: PooledLikelihood | None = None


class BlockFinding(Out):
    date: date | None
    relief_percent: float | None
    threshold: float
    result: Literal["confirmed", "equivocal", "negative", "none"]
    counted_in_12_months: int  # block sessions (dates) of any side, as the session limit counts
    reasons: list[Reason]
    side: str | None = None
    target: str | None = None


class Clue(Out):
    id: str
    status: Literal["present", "absent", "unknown"]
    text: str


class KurosawaScore(Out):
    score: int
    max_possible: int
    cutoff: int
    result: Literal["positive", "negative", "incomplete"]
    items: dict[str, int | None]


class PainPattern(Out):
    clues: list[Clue]
    clues_present: int
    clues_unknown: int = 0  # clues not recorded: never to be read as absent
    kurosawa: KurosawaScore
    reasons: list[Reason]


class DifferentialItem(Out):
    id: str
    support: tuple[str, ...]
    reasons: list[Reason]


class ReferralFinding(Out):
    id: str
    action: Literal["refer", "test_hla_b27", "urgent"]
    reasons: list[Reason]


class CriterionResult(Out):
    id: str
    text: str  # the criterion in plain words, as the policy states it
    status: CriterionStatus
    detail: str
    sources: tuple[str, ...]
    provisional: bool = False
    document: str | None = None
    pending: str | None = None  # not met only because time has not passed yet: what decides it
    safety: bool = False  # guards the patient (not the payer's paperwork): not met is a stop


class EvidenceLine(Out):
    """A guideline's position on the treatment, with the guideline's own strength word (or
    `not graded` / `grade not retrieved`, as the knowledge base records it)."""

    source: str
    position: str
    strength: str


class OptionResult(Out):
    status: Status
    name: str
    criteria: list[CriterionResult]
    missing: tuple[str, ...]  # what to document, the unknown safety facts first
    stopped_by: tuple[str, ...] = ()  # ids of the not-met safety criteria: a stop, not a gap
    reasons: list[Reason]
    evidence: list[EvidenceLine] = Field(default_factory=list)
    provisional: bool = False  # the coverage decision rests on secondary sources


class Alert(Out):
    id: str
    severity: Severity
    detail: str
    sources: tuple[str, ...]
    provisional: bool = False


def _absent(value: object) -> bool:
    return value is None


# Baseline, change and MCID exist only once an earlier entry does; until then they are left out.
Later = Field(default=None, exclude_if=_absent)


class OdiOutcome(Out):
    score: float | None
    band: str | None
    answered: int
    date: date
    baseline: float | None = Later
    change: float | None = Later
    mcid_reached: bool | None = Later


class NrsOutcome(Out):
    value: int | float
    date: date
    baseline: int | float | None = Later
    change: float | None = Later
    mcid_reached: bool | None = Later


class PgicOutcome(Out):
    value: int
    date: date
    responder: bool


class Outcomes(Out):
    odi: OdiOutcome | None = None
    nrs: NrsOutcome | None = None
    pgic: PgicOutcome | None = None


class RegenerativeCourse(Out):
    """The current series of one regenerative kind (sessions counted once per date)."""

    kind: Literal["prolotherapy", "prp"]
    series_started: date
    injections: int
    series_injections: int  # both kinds in the combined series holding this kind's latest
    last: date
    next_window: tuple[date, date]
    limit: int
    active: bool


class RfaCourse(Out):
    """The most recent ablation and the first day a repeat is considered."""

    last: date
    kind: Literal["rfa_conventional", "rfa_cooled"]
    side: Literal["left", "right", "bilateral"] | None
    relief_percent: int | float | None
    relief_weeks: int | float | None
    repeat_from: date


class Courses(Out):
    regenerative: list[RegenerativeCourse] = Field(default_factory=list)
    rfa: RfaCourse | None = Later  # absent when no ablation is recorded


class FollowUpPoint(Out):
    """When an outcome questionnaire is due, its inclusive window and whether it was done."""

    point: str
    anchor: Literal["treatment_start", "procedure"]
    procedure_date: date | None = Later
    procedure_kind: str | None = Later
    due: date
    window: tuple[date, date]
    instruments: tuple[str, ...]
    status: Literal["done", "upcoming", "due", "missed"]


class Assessment(Out):
    schema_version: Literal[1] = 1
    knowledge_version: str
    policy: str
    as_of: date
    patient_id: str
    stage: StageId
    stage_reasons: list[Reason]
    red_flags: list[RedFlagFinding]
    sij_likelihood: Likelihood
    pain_pattern: PainPattern
    block: BlockFinding
    differential: list[DifferentialItem]
    referrals: list[ReferralFinding]
    eligibility: dict[str, OptionResult]
    alerts: list[Alert]
    outcomes: Outcomes
    reasons: list[Reason]
    disclaimer: str
    courses: Courses = Field(default_factory=Courses)
    follow_up: list[FollowUpPoint] = Field(default_factory=list)
    # imported facts no clinician has reviewed: what counts of them already (the stops) and
    # what waits for review (anything that could open an option)
    unreviewed: list[UnreviewedFact] = Field(default_factory=list)

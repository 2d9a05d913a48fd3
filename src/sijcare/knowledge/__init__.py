"""The clinical knowledge base: YAML files beside this module, validated once at load.

Every item carries `sources` ids that must resolve into `sources.yaml`; a dangling id is a
load error, so no number reaches a clinician without its citation.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

Firmness = Literal["verified", "secondary", "unverified"]
# Who paid for a study, as the study itself states it; `not stated` where no statement was seen.
Funding = Literal["industry", "public", "none declared", "not stated"]
Severity = Literal["block", "warn", "info"]


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Item):
    id: str
    short: str | None = None  # label for organisations, where the first author would mislead
    citation: str
    year: int | None = None
    design: str
    url: str | None = None
    firmness: Firmness
    note: str | None = None


class ProvocationTest(Item):
    id: str
    name: str
    how: str
    sensitivity: float | None
    specificity: float | None
    lr_positive: float | None
    lr_negative: float | None
    computed: list[Literal["lr_positive", "lr_negative"]] = Field(default_factory=list)
    note: str | None = None
    sources: list[str]


class Pooled(Item):
    """A meta-analysis' pooled likelihood ratios, shown beside a single study's."""

    source: str
    lr_positive: float
    lr_negative: float


class Cluster(Item):
    id: str
    name: str
    tests: list[str]
    min_positive: int
    sensitivity: float
    specificity: float
    lr_positive: float
    lr_negative: float
    note: str
    pooled: Pooled | None = None
    sources: list[str]


class Described(Item):
    id: str
    name: str
    how: str | None = None
    text: str | None = None
    sources: list[str]


class ScoreItem(Item):
    id: str
    points: int
    text: str


class Kurosawa(Item):
    id: str
    name: str
    cutoff: int
    sensitivity: float
    specificity: float
    items: list[ScoreItem]
    sources: list[str]


class Clue(Item):
    id: str
    text: str
    sources: list[str]


class Examination(Item):
    provocation_tests: list[ProvocationTest]
    clusters: list[Cluster]
    fortin_finger: Described
    kurosawa: Kurosawa
    pain_clues: list[Clue]


class RedFlagItem(Item):
    id: str
    name: str
    condition: str
    referral: str
    sources: list[str]


class Referral(Item):
    id: str
    action: Literal["refer", "test_hla_b27", "urgent"]
    text: str
    sources: list[str]


class SpaRule(Item):
    id: str
    onset_age_below: int
    duration_months_over: int
    refer_at: int
    test_hla_b27_at: int
    features: dict[str, str]
    sources: list[str]


class Screening(Item):
    red_flags: list[RedFlagItem]
    referrals: list[Referral]
    spondyloarthritis: SpaRule


class Stage(Item):
    id: str
    name: str
    text: str
    sources: list[str]


class LastingRelief(Item):
    percent: float
    weeks: float
    provisional: bool = False


class Rung(Item):
    """A rung of the treatment ladder below fusion: an option and the procedure kinds it gives."""

    option: str
    kinds: list[str]


class Note(Item):
    """A fixed explanation the engine adds where a rule applies, with its sources."""

    text: str
    sources: list[str]


class Pathway(Item):
    rolling_window_days: int
    block_equivocal_floor: float
    relief_ongoing_percent: float
    lasting_relief: LastingRelief
    surgical_conservative_weeks: float
    single_block_unconfirmed_percent: float
    block_diary_minutes: list[int]
    ladder: list[Rung]
    prior_fusion: Note
    sources: dict[str, list[str]]
    stages: list[Stage]
    differential: list[Stage]


class Criterion(Item):
    id: str
    check: str
    params: dict[str, Any] = Field(default_factory=dict)
    text: str
    provisional: bool = False
    sources: list[str]


class Option(Item):
    id: str
    name: str
    covered: bool
    provisional: bool = False  # the coverage decision itself rests on secondary sources
    sources: list[str]
    criteria: list[Criterion]


class Policy(Item):
    id: str
    name: str
    prior: float = Field(gt=0, lt=1)
    block_threshold: float
    fusion_block_threshold: float  # each of two concordant intra-articular blocks
    conservative_min_weeks: float
    sources: dict[str, list[str]]
    options: list[Option]

    def option(self, option_id: str) -> Option:
        return next(o for o in self.options if o.id == option_id)


class Limit(Item):
    severity: Severity | None = None
    text: str | None = None
    provisional: bool = False
    window_days: int | None = None
    warn_at: int | None = None
    block_at: int | None = None
    min_weeks: float | None = None
    min_age: int | None = None
    max_age: int | None = None
    severities: dict[str, Severity] | None = None
    sources: list[str]


class Safety(Item):
    steroid_frequency_limit: Limit
    steroid_interval: Limit
    pregnancy: Limit
    allergy_conflict: Limit
    anticoagulant: Limit
    block_not_image_guided: Limit
    spa_age_unknown: Limit
    blocks_before_onset: Limit
    care_before_onset: Limit


class Band(Item):
    band: str
    max: float


class Mcid(Item):
    points: float
    percent: float


class OdiRule(Item):
    name: str
    sections: int
    max_per_section: int
    min_answered: int
    bands: list[Band]
    mcid: Mcid
    sources: list[str]


class NrsRule(Item):
    name: str
    mcid: Mcid
    sources: list[str]


class PgicRule(Item):
    name: str
    responder_at_most: int
    sources: list[str]


class Outcomes(Item):
    odi: OdiRule
    nrs: NrsRule
    pgic: PgicRule


class GuidelinePosition(Item):
    source: str
    position: str
    # The guideline's own strength word; `not graded` where the source grades nothing, `grade
    # not retrieved` where it grades its statements but this grade was not seen. Never empty.
    strength: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Study(Item):
    source: str
    design: str
    n: int | None = None
    comparison: str | None = None
    outcome: str | None = None
    result: str | None = None
    advocacy: bool = False
    funding: Funding
    firmness: Firmness
    topic: str | None = None

    @computed_field
    @property
    def industry_sponsored(self) -> bool:
        """Paid for by industry (a company with a stake in the result): shown like `advocacy`."""
        return self.funding == "industry"


class Treatment(Item):
    id: str
    name: str
    option: str | None = None  # the eligibility option this evidence stands behind
    summary: str
    regimen: str | None = None
    typical_relief: str | None = None
    guideline_positions: list[GuidelinePosition] = Field(default_factory=list)
    studies: list[Study] = Field(default_factory=list)


class Evidence(Item):
    treatments: list[Treatment]
    background: list[Study] = Field(default_factory=list)


class ScreenFlag(Item):
    """A self-screen warning-sign question and the case red flags it stands for."""

    id: str
    case_flags: list[str]
    emergency: bool
    words: str


class ScreenPointer(Item):
    id: str
    text: str
    sources: list[str]


class ScreenRules(Item):
    """The public self-screen: its questions, score items and the words it answers with."""

    red_flags: list[ScreenFlag]
    self_score_items: dict[str, str]
    other_sources: list[ScreenPointer]
    texts: dict[str, str]
    sources: dict[str, list[str]]


class RegenerativeCourseRule(Item):
    kinds: list[str]
    series_gap_days: int
    next_window_days: tuple[int, int]
    limit: int
    provisional: bool = False
    sources: list[str]


class RfaCourseRule(Item):
    kinds: list[str]
    repeat_after_days: int
    provisional: bool = False
    sources: list[str]


class CourseAlert(Item):
    severity: Severity
    text: str
    provisional: bool = False
    relief_below: float | None = None
    sources: list[str]


class CourseRules(Item):
    """Treatment courses: regenerative series and repeat ablation, and their alerts."""

    regenerative: RegenerativeCourseRule
    rfa: RfaCourseRule
    alerts: dict[str, CourseAlert]


class FollowUpRule(Item):
    """One point of the follow-up schedule, anchored on the treatment start or a procedure."""

    point: str
    anchor: Literal["treatment_start", "procedure"]
    months: int | None = None  # calendar months after the anchor
    days: int | None = None  # or days after it
    before_days: int
    after_days: int
    instruments: list[Literal["odi", "nrs", "pgic"]]
    provisional: bool = False
    sources: list[str]


class FollowUpSchedule(Item):
    points: list[FollowUpRule]


class CommentTerm(Item):
    """Words in a patient's own comment that can stand for red flags (`comment_flags.yaml`)."""

    id: str
    words: list[str] = Field(min_length=1)
    red_flags: list[str] = Field(min_length=1)
    sources: list[str]


class CommentFlags(Item):
    terms: list[CommentTerm]


class Knowledge(Item):
    """The whole knowledge base, loaded and cross-checked.

    A loaded knowledge base is one resource: it compares and hashes by identity, so findings
    derived from it can be memoized per knowledge base.
    """

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    version: str
    disclaimer: str
    sources: dict[str, Source]
    examination: Examination
    screening: Screening
    pathway: Pathway
    policies: dict[str, Policy]
    safety: Safety
    outcomes: Outcomes
    evidence: Evidence
    screen: ScreenRules
    courses: CourseRules
    follow_up: FollowUpSchedule
    comment_flags: CommentFlags

    def cited(self) -> list[tuple[str, str]]:
        """Every (where, source id) pair cited anywhere, for resolution checks."""
        found: list[tuple[str, str]] = []

        def walk(node: Any, where: str) -> None:
            if isinstance(node, BaseModel):
                node = {k: getattr(node, k) for k in type(node).model_fields}
            if isinstance(node, dict):
                for key, value in node.items():
                    here = f"{where}.{key}"
                    if key == "sources" and isinstance(value, list):
                        found.extend((here, s) for s in value)
                    elif key == "sources" and isinstance(value, dict):  # per-parameter sources
                        found.extend((f"{here}.{k}", s) for k, ids in value.items() for s in ids)
                    elif key == "source" and isinstance(value, str):
                        found.append((here, value))
                    else:
                        walk(value, here)
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    walk(value, f"{where}[{i}]")

        for name in ("examination", "screening", "pathway", "policies", "safety", "outcomes",
                     "evidence", "screen", "courses", "follow_up", "comment_flags"):
            walk(getattr(self, name), name)
        return found


class KnowledgeError(ValueError):
    """The knowledge files are inconsistent; raised at load, never mid-assessment."""


def _read(name: str) -> Any:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def load_knowledge() -> Knowledge:
    """Load, validate and cross-check every knowledge file (once per process)."""
    meta = _read("meta.yaml")
    policy_dir = resources.files(__name__).joinpath("policies")
    policies = {}
    for entry in sorted(policy_dir.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            policy = Policy.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
            policies[policy.id] = policy
    knowledge = Knowledge(
        version=meta["version"],
        disclaimer=meta["disclaimer"],
        sources={s["id"]: Source.model_validate(s) for s in _read("sources.yaml")},
        examination=_read("examination.yaml"),
        screening=_read("screening.yaml"),
        pathway=_read("pathway.yaml"),
        policies=policies,
        safety=_read("safety.yaml"),
        outcomes=_read("outcomes.yaml"),
        evidence=_read("evidence.yaml"),
        screen=_read("screen.yaml"),
        courses=_read("courses.yaml"),
        follow_up=_read("follow_up.yaml"),
        comment_flags=_read("comment_flags.yaml"),
    )
    dangling = [f"{where}: {sid}" for where, sid in knowledge.cited()
                if sid not in knowledge.sources]
    if dangling:
        raise KnowledgeError("unknown source ids: " + ", ".join(dangling))
    _check_screen(knowledge)
    _check_comment_flags(knowledge)
    return knowledge


def _check_screen(kb: Knowledge) -> None:
    """The self-screen names red flags and score items that must exist elsewhere."""
    flags = {f.id for f in kb.screening.red_flags}
    items = {i.id for i in kb.examination.kurosawa.items}
    wrong = [f"screen.red_flags.{q.id}: {flag}" for q in kb.screen.red_flags
             for flag in q.case_flags if flag not in flags]
    wrong += [f"screen.self_score_items.{answer}: {item}"
              for answer, item in kb.screen.self_score_items.items() if item not in items]
    if wrong:
        raise KnowledgeError("unknown ids: " + ", ".join(wrong))


def _check_comment_flags(kb: Knowledge) -> None:
    """Each comment term stands for red flags that exist, and no word is listed twice."""
    flags = {f.id for f in kb.screening.red_flags}
    wrong = [f"comment_flags.{t.id}: {flag}" for t in kb.comment_flags.terms
             for flag in t.red_flags if flag not in flags]
    words = [w.lower() for t in kb.comment_flags.terms for w in t.words]
    wrong += [f"comment_flags: '{w}' listed twice" for w in sorted(set(words))
              if words.count(w) > 1]
    if wrong:
        raise KnowledgeError("comment flags: " + ", ".join(wrong))


def short_citation(source: Source) -> str:
    """`Laslett 2005` style label for reports."""
    if source.short:
        return source.short
    words = source.citation.split(",")[0].split(".")[0].split(" ")
    particles = {"van", "von", "de", "der", "den", "du", "da"}
    first = " ".join(words[: next((i + 1 for i, w in enumerate(words) if w not in particles),
                                  1)])
    return f"{first} {source.year}" if source.year else first

"""Derived facts every rule shares: durations, windows, counted blocks, relief.

`Facts` wraps one case for one assessment and computes each derived fact once, however many
rules read it. Every fact is `None` where its input was not recorded, so rules can keep
`unknown` distinct from `no`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Hashable
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple, TypeVar

from sijcare.engine.series import Series, combined_series, regenerative_series
from sijcare.knowledge import Knowledge
from sijcare.model.case import Block, Case, Procedure
from sijcare.model.plausibility import whole_years
from sijcare.numbers import exact, round_half_up

T = TypeVar("T")
COUNTED_GUIDANCE = frozenset({"fluoroscopy", "ct", "ultrasound"})
ABLATION_KINDS = ("rfa_conventional", "rfa_cooled")
JOINT_TARGETS = frozenset({"intra_articular", None})  # an unrecorded target counts as the joint
PROVOCATION_TESTS = ("distraction", "thigh_thrust", "compression", "sacral_thrust",
                     "gaenslen_left", "gaenslen_right", "faber", "yeoman")
DAYS_PER_MONTH = 30.4375


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic; the 31st falls back to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def subtract_months(day: date, months: float) -> date:
    """`day` minus whole calendar months, and any fraction of a month as days."""
    whole = int(months)
    earlier = add_months(day, -whole)
    return earlier - timedelta(days=round((months - whole) * DAYS_PER_MONTH))


def relief_percent(block: Block) -> float:
    """(before - after) / before x 100, one decimal, rounded half up."""
    return _relief(block.pain_before, block.pain_after)


@lru_cache(maxsize=4096)
def _relief(before: float, after: float) -> float:
    """Exact arithmetic is dear and pain scores are few: each pair is worked out once."""
    before, after = exact(before), exact(after)
    return round_half_up((before - after) / before * 100, 1)


def _procedure_order(p: Procedure) -> tuple:
    return (p.date, p.kind, -1 if p.relief_percent is None else p.relief_percent,
            -1 if p.relief_weeks is None else p.relief_weeks, p.relief_ongoing is True,
            p.side or "", p.guidance or "")


def last_session(procedures: list[Procedure]) -> list[Procedure]:
    """The entries of the most recent date among `procedures` (in date order): one session."""
    return [p for p in procedures if p.date == procedures[-1].date] if procedures else []


class Session(NamedTuple):
    """Blocks on one date are one session, represented by its lowest relief (the cautious
    reading, ENGINE-RULES v3)."""

    date: date
    block: Block
    relief: float


def sessions(blocks: list[Block]) -> tuple[Session, ...]:
    """One session per date, in date order, each the block with the lowest relief that day."""
    lowest: dict[date, Session] = {}
    for block in blocks:
        relief = relief_percent(block)
        if block.date not in lowest or relief < lowest[block.date].relief:
            lowest[block.date] = Session(block.date, block, relief)
    return tuple(lowest[day] for day in sorted(lowest))


def relief_ongoing(procedure: Procedure, floor: float) -> bool:
    return (
        procedure.relief_percent is not None
        and procedure.relief_percent >= floor
        and procedure.relief_ongoing is True
    )


def lasting_relief(procedure: Procedure, percent: float, weeks: float) -> bool | None:
    """Relief of at least `percent` for at least `weeks`: False as soon as one recorded figure
    falls short, None when neither falls short but one is not recorded."""
    shown, lasted = procedure.relief_percent, procedure.relief_weeks
    if (shown is not None and shown < percent) or (lasted is not None and lasted < weeks):
        return False
    return None if shown is None or lasted is None else True


def combined_gaenslen(tests: dict[str, str | None]) -> str | None:
    """Gaenslen as one test: positive if either side is, performed if either side was."""
    sides = (tests["gaenslen_left"], tests["gaenslen_right"])
    if "positive" in sides:
        return "positive"
    return "negative" if "negative" in sides else None


class once:  # lower case: used as a decorator, like functools.cached_property
    """A property computed on first use and then kept on the instance.

    Like `functools.cached_property` without its per-instance lock (Python 3.11), which costs
    more than most facts: one assessment's `Facts` never crosses threads.
    """

    def __init__(self, compute):
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __get__(self, facts, owner=None):
        if facts is None:
            return self
        value = facts.__dict__[self.name] = self.compute(facts)
        return value


class Facts:
    """One case's derived facts, each computed at most once per assessment."""

    def __init__(self, case: Case, kb: Knowledge):
        self.case = case
        self.kb = kb
        self.history = case.history
        self.exam = case.exam

    def remember(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A finding of a rule above the facts (the ladder, the differential), worked out once
        per assessment however many rules read it."""
        found = self.__dict__.setdefault("_remembered", {})
        if key not in found:
            found[key] = compute()
        return found[key]

    def in_window(self, day: date) -> bool:
        """Rolling window: `as_of - window < day <= as_of`."""
        return self.window_start < day <= self.case.as_of

    @once
    def window_label(self) -> str:
        """The rolling window in clinic words: `rolling 12 months` for 365 days."""
        days = self.kb.pathway.rolling_window_days
        return f"rolling {days // 365 * 12} months" if days % 365 == 0 else f"last {days} days"

    @once
    def window_start(self) -> date:
        return self.case.as_of - timedelta(days=self.kb.pathway.rolling_window_days)

    def pain_lasted(self, months: int, *, strictly: bool = False) -> bool | None:
        """Has the pain lasted at least (or, with `strictly`, more than) `months` months?"""
        history = self.history
        if history and history.pain_onset:
            boundary = add_months(history.pain_onset, months)
            return boundary < self.case.as_of if strictly else boundary <= self.case.as_of
        if history and history.pain_duration_months is not None:
            lasted = history.pain_duration_months
            return lasted > months if strictly else lasted >= months
        return None

    @once
    def pain_text(self) -> str:
        history = self.history
        if history and history.pain_onset:
            return f"pain since {history.pain_onset}"
        if history and history.pain_duration_months is not None:
            return f"pain for {history.pain_duration_months:g} months"
        return "pain onset not recorded"

    @once
    def red_flags(self) -> list[str] | None:
        """The recorded red flags, once each; `None` when the screen was not recorded."""
        flags = self.history.red_flags if self.history else None
        return None if flags is None else list(dict.fromkeys(flags))

    @once
    def onset(self) -> date | None:
        """When this pain began: recorded, or `as_of` minus its duration in calendar months."""
        history = self.history
        if history and history.pain_onset:
            return history.pain_onset
        if history and history.pain_duration_months is not None:
            return subtract_months(self.case.as_of, history.pain_duration_months)
        return None

    def since_onset(self, day: date) -> bool:
        """On or after onset; every date counts while onset is unknown."""
        return self.onset is None or day >= self.onset

    @once
    def age(self) -> int | None:
        """Age at `as_of`; the birth date wins over a recorded age."""
        patient = self.case.patient
        if patient.birth_date:
            return whole_years(patient.birth_date, self.case.as_of)
        return patient.age

    @once
    def onset_age(self) -> float | None:
        """Age at pain onset: whole years from the birth date, else from the recorded age."""
        patient, onset = self.case.patient, self.onset
        if onset is None:
            return None
        if patient.birth_date:
            return whole_years(patient.birth_date, onset)
        if patient.age is not None:
            return patient.age - (self.case.as_of - onset).days / 365.25
        return None

    @once
    def could_be_pregnant(self) -> bool:
        """Pregnancy not recorded for a patient who could be: not male, of an age to be."""
        patient, rule = self.case.patient, self.kb.safety.pregnancy
        if patient.pregnant is not None or patient.sex == "male":
            return False
        return self.age is None or rule.min_age <= self.age <= rule.max_age

    @once
    def care_weeks(self) -> float | None:
        """Weeks covered by the union of care courses since onset (ongoing ones run to
        `as_of`); care before this pain began belongs to another episode."""
        if self.case.conservative_care is None:
            return None
        as_of, onset = self.case.as_of, self.onset
        spans = sorted((max(c.start, onset) if onset else c.start, min(c.end or as_of, as_of))
                       for c in self.case.conservative_care)
        days, reach = 0, None
        for start, end in spans:
            if reach is not None and start < reach:
                start = reach
            if end > start:
                days += (end - start).days
                reach = end
        return days / 7

    @once
    def care_before_onset(self) -> list[date]:
        """Start dates of care courses begun before onset (left out of the care weeks)."""
        return [c.start for c in self.case.conservative_care or [] if not self.since_onset(c.start)]

    def matches_complaint(self, entry: Block | Procedure) -> bool:
        """Same side as the complaint: either side unknown, equal, or either bilateral."""
        side = self.history.side if self.history else None
        return (side is None or entry.side is None or entry.side == side
                or "bilateral" in (side, entry.side))

    @once
    def guided_blocks(self) -> list[Block]:
        """Image-guided blocks of any side and date, in date order (list order breaks ties)."""
        blocks = [b for b in self.case.blocks or [] if b.guidance in COUNTED_GUIDANCE]
        return sorted(blocks, key=lambda b: b.date)

    @once
    def counted_blocks(self) -> list[Block]:
        """Image-guided blocks on the complaint's side since onset, in date order."""
        return [b for b in self.guided_blocks
                if self.matches_complaint(b) and self.since_onset(b.date)]

    @once
    def unguided_blocks(self) -> list[Block]:
        return [b for b in self.case.blocks or [] if b.guidance not in COUNTED_GUIDANCE]

    @once
    def blocks_before_onset(self) -> list[Block]:
        """Blocks of an earlier pain: they diagnose nothing about this one."""
        return [b for b in self.case.blocks or [] if not self.since_onset(b.date)]

    @once
    def block_sessions(self) -> tuple[Session, ...]:
        """Counted block sessions (of any target), in date order."""
        return sessions(self.counted_blocks)

    @once
    def joint_sessions(self) -> tuple[Session, ...]:
        """Counted sessions into the joint itself (target intra-articular or unrecorded)."""
        return sessions([b for b in self.counted_blocks if b.target in JOINT_TARGETS])

    @once
    def latest_block(self) -> Block | None:
        """The block representing the most recent counted session (the stage reads it)."""
        return self.block_sessions[-1].block if self.block_sessions else None

    @once
    def latest_relief(self) -> float | None:
        return self.block_sessions[-1].relief if self.block_sessions else None

    @once
    def recent_blocks(self) -> int:
        """Block sessions (dates) of any side in the rolling window, as a payer counts them."""
        return len({b.date for b in self.guided_blocks if self.in_window(b.date)})

    @once
    def procedures(self) -> list[Procedure]:
        """Procedures in date order; entries of one date in an order of their own content, so
        list order never decides anything (rules read a date's entries as one session)."""
        return sorted(self.case.procedures or [], key=_procedure_order)

    @once
    def steroid_injections(self) -> list[Procedure]:
        return [p for p in self.procedures if p.kind == "steroid_injection"]

    def kinds(self, kinds: frozenset[str] | tuple[str, ...]) -> list[Procedure]:
        """The procedures of the given kinds, in date order."""
        return [p for p in self.procedures if p.kind in kinds]

    def tried(self, kinds: tuple[str, ...]) -> list[Procedure]:
        """Image-guided procedures of the kinds since onset: the rungs tried in this episode."""
        return [p for p in self.kinds(kinds)
                if p.guidance not in (None, "none") and self.since_onset(p.date)]

    @once
    def ablations(self) -> list[Procedure]:
        return self.kinds(ABLATION_KINDS)

    @once
    def relief_still_ongoing(self) -> Procedure | None:
        """A procedure of any kind whose relief is still ongoing (the latest such)."""
        floor = self.kb.pathway.relief_ongoing_percent
        ongoing = [p for p in self.procedures if relief_ongoing(p, floor)]
        return ongoing[-1] if ongoing else None

    @once
    def prior_fusions(self) -> list[Procedure]:
        """Fusions of the complaint's joint (side equal, bilateral, or either unrecorded)."""
        return [p for p in self.kinds(("mis_fusion",)) if self.matches_complaint(p)]

    @once
    def regenerative_series(self) -> list[Series]:
        """Each regenerative kind's own series (for display)."""
        return regenerative_series(self.case, self.kb)

    @once
    def combined_series(self) -> list[Series]:
        """Prolotherapy and PRP as one series (limits, intervals and response read these)."""
        return combined_series(self.case, self.kb)

    @once
    def provocation(self) -> dict[str, str | None]:
        """Every provocation test with its result, `None` when not performed."""
        tests = self.exam.provocation if self.exam else None
        return {name: getattr(tests, name) if tests else None for name in PROVOCATION_TESTS}

    @once
    def radicular_support(self) -> list[str]:
        """Facts making up the radicular pattern (below the knee plus deficit or SLR), else []."""
        if not (self.history and self.history.below_knee):
            return []
        exam = self.exam
        signs = []
        if exam and exam.neuro_deficit:
            signs.append("neuro_deficit")
        if exam and exam.straight_leg_raise == "positive":
            signs.append("straight_leg_raise")
        return ["below_knee", *signs] if signs else []

    @once
    def radiculopathy_excluded(self) -> bool | None:
        """False for a radicular pattern, True when the recorded signs rule one out, else
        None (the signs that would decide were not recorded)."""
        if self.radicular_support:
            return False
        history, exam = self.history, self.exam
        if history and history.below_knee is False:
            return True
        if exam and exam.neuro_deficit is False and exam.straight_leg_raise == "negative":
            return True
        return None

    @once
    def hip_pattern(self) -> bool:
        return bool(self.exam and self.exam.hip_rotation_pain)

    @once
    def spa_feature_count(self) -> int:
        features = self.history.spa_features if self.history else None
        return len(set(features or []))

    @once
    def spa_age_unknown(self) -> bool:
        """Enough NICE NG65 features to matter, but no age at onset to apply the rule with."""
        rule = self.kb.screening.spondyloarthritis
        return self.spa_feature_count >= rule.test_hla_b27_at and self.onset_age is None

"""The episode's assessment as of a day: the store builds the `Case`, the engine assesses it.

Web and API call these functions, so both show what `assess()` says, nothing else.
"""

from __future__ import annotations

import hashlib
from datetime import date

from pydantic import ValidationError
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.model.assessment import Assessment
from sijcare.model.case import Case
from sijcare.model.loading import describe
from sijcare.store import EpisodeRecords, load_episode_records


class CaseProblems(ValueError):
    """The recorded episode does not make a valid case for that day."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def assess_episode(db: Session, episode_id: int, policy: str, as_of: date) -> Assessment:
    return assess_records(load_episode_records(db, episode_id), policy, as_of)


def assess_records(records: EpisodeRecords, policy: str, as_of: date) -> Assessment:
    """For a caller that shows more of the same records (the episode page): no second read."""
    return case_and_assessment(records, policy, as_of)[1]


def case_and_assessment(records: EpisodeRecords, policy: str,
                        as_of: date) -> tuple[Case, Assessment]:
    """The case as of the day and what the engine concludes; the page words one by the other."""
    try:
        case = records.case_as_of(as_of)
    except ValidationError as error:
        raise CaseProblems(describe(error)) from None
    except ValueError as error:
        raise CaseProblems([str(error)]) from None
    return case, assess(case, policy=policy)


def fingerprint(assessment: Assessment) -> str:
    """Names the exact assessment a clinician was shown, so signing can check it is the same."""
    return hashlib.sha256(assessment.model_dump_json().encode()).hexdigest()

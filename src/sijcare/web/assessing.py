"""The episode's assessment as of a day: the store builds the `Case`, the engine assesses it.

Web and API call this one function, so both show what `assess()` says, nothing else.
"""

from __future__ import annotations

import hashlib
from datetime import date

from pydantic import ValidationError
from sqlalchemy.orm import Session

from sijcare.engine import assess
from sijcare.model.assessment import Assessment
from sijcare.model.loading import describe
from sijcare.store import case_as_of


class CaseProblems(ValueError):
    """The recorded episode does not make a valid case for that day."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def assess_episode(db: Session, episode_id: int, policy: str, as_of: date) -> Assessment:
    try:
        case = case_as_of(db, episode_id, as_of)
    except ValidationError as error:
        raise CaseProblems(describe(error)) from None
    except ValueError as error:
        raise CaseProblems([str(error)]) from None
    return assess(case, policy=policy)


def fingerprint(assessment: Assessment) -> str:
    """Names the exact assessment a clinician was shown, so signing can check it is the same."""
    return hashlib.sha256(assessment.model_dump_json().encode()).hexdigest()

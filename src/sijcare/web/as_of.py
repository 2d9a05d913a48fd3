"""The day an assessment is made as of: today by default, never a future day.

Records are dated the day they are entered, so an assessment "as of" a future day would only
repeat today's while looking like a forecast. The episode page and the API refuse it alike
(422 naming `as_of`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

from sijcare.model.case import IsoDate
from sijcare.store.plausible import date_problem
from sijcare.web.problems import unprocessable

AsOf = Annotated[IsoDate | None, Query(description="The day to assess as of (YYYY-MM-DD, "
                                                   "default today); a future day is refused.")]


def day_of(as_of: dt.date | None, where: str = "query") -> dt.date:
    """`as_of`, or today; RequestValidationError for a future or implausible day."""
    today = dt.date.today()
    if as_of is None:
        return today
    if problem := date_problem(as_of, today):
        raise unprocessable([("as_of", problem)], where)
    return as_of

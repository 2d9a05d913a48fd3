"""Times as the clinic reads them: stored moments are naive UTC, pages show the clinic's zone."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(moment: dt.datetime | None, zone: str) -> str:
    """`2026-12-01 15:05 CET` for a naive-UTC moment in the zone `zone` (an IANA name)."""
    if moment is None:
        return "time not recorded"
    local = moment.replace(tzinfo=dt.UTC).astimezone(_zone(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone)

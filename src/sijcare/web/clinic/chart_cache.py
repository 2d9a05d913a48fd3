"""Each course chart drawn once per (episode, as-of day, last record), named by an ETag.

A chart is a pure function of the episode's records as known on a day (and of the code and
the knowledge base that draw it). Records are never edited in place, only added or marked
entered in error, so (kind, id, voided day) of every record names what a chart is drawn
from: the tag is a hash of that, the patient's birth date and sex (the case is checked against
them), the day, the width and the versions. A browser that sends the tag back gets 304 and no
drawing; a tag seen before is answered from memory. Reading the records, the access check and
the audit note still happen on every request (the chart is patient data).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from sijcare import __version__
from sijcare.knowledge import load_knowledge
from sijcare.store import EpisodeRecords

CACHE_SIZE = 256  # charts kept per process (about 40 kB each)

_drawn: OrderedDict[str, bytes | None] = OrderedDict()
_lock = threading.Lock()


def chart_tag(records: EpisodeRecords, as_of: dt.date, width: str) -> str:
    """The ETag (quoted) of the chart of `records` as known on `as_of`, drawn `width`."""
    stamp = sorted((kind, stored.row.id, str(stored.row.voided_on))
                   for kind, rows in records.by_kind.items() for stored in rows)
    stamp += sorted(("none", n.id, str(n.voided_on)) for n in records.nones)
    patient = records.episode.patient if records.episode is not None else None
    who = (str(patient.birth_date), patient.sex) if patient is not None else ()
    text = repr((__version__, load_knowledge().version, records.episode_id, as_of.isoformat(),
                 width, who, stamp))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def drawn(tag: str, draw: Callable[[], bytes | None]) -> bytes | None:
    """The chart named `tag`: from memory, else `draw()` (None: nothing to draw) kept for
    the next request. Two requests may draw the same chart at once; both get the same bytes."""
    with _lock:
        if tag in _drawn:
            _drawn.move_to_end(tag)
            return _drawn[tag]
    svg = draw()
    with _lock:
        _drawn[tag] = svg
        while len(_drawn) > CACHE_SIZE:
            _drawn.popitem(last=False)
    return svg


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether the browser's If-None-Match names `tag` (a list of tags, or *)."""
    if not if_none_match:
        return False
    sent = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return tag in sent or "*" in sent

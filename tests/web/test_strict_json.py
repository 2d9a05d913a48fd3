"""The strict-JSON check of every request body, against what it promises: a body is refused
when a string it reads as (a key too) holds a lone surrogate, or a value lies deeper than
MAX_DEPTH, whichever way the text is written (escapes, raw UTF-8 bytes, other encodings)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sijcare.web.middleware.bodies import MAX_DEPTH, BodyProblem, check_json

LONE = re.compile("[\ud800-\udfff]")
texts = st.text(st.characters(exclude_categories=()), max_size=6) | st.sampled_from(
    ["\ud83d\ude00", "😀", "\\ud800", "\udbff", "\udc00x", "é", ""])
values = st.recursive(st.none() | st.booleans() | st.integers() | texts,
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(texts, inner, max_size=3), max_leaves=12)


def nested(value: object, levels: int) -> object:
    for _ in range(levels):
        value = [value]
    return value


def depth(value: object) -> int:
    """How deep the deepest value lies (the body itself at 0)."""
    inside = ([*value.keys(), *value.values()] if isinstance(value, dict) else
              value if isinstance(value, list) else [])
    return 1 + max(map(depth, inside)) if inside else 0


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    inside = ([*value.keys(), *value.values()] if isinstance(value, dict) else
              value if isinstance(value, list) else [])
    return [s for item in inside for s in strings(item)]


def refused(body: bytes) -> bool:
    try:
        check_json(body)
    except BodyProblem:
        return True
    return False


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(value=values, levels=st.sampled_from([0, 1, MAX_DEPTH - 3, MAX_DEPTH - 1, MAX_DEPTH]),
       ascii_only=st.booleans(), encoding=st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_refused_exactly_for_lone_surrogates_and_depth(value: object, levels: int,
                                                       ascii_only: bool, encoding: str) -> None:
    value = nested(value, levels)
    text = json.dumps(value, ensure_ascii=ascii_only)
    body = text.encode(encoding, "surrogatepass")
    parsed = json.loads(body)  # a pair of escapes reads as one character
    expected = depth(parsed) > MAX_DEPTH or any(LONE.search(s) for s in strings(parsed))
    assert refused(body) == expected


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"a": "\\ud800"}', True), (b'{"\\uDFFF": 1}', True), (b'["\\ud83d\\ude00"]', False),
    (b'["\xed\xa0\x80"]', True), (b'["\\\\ud800"]', False), (b'["\xf0\x9f\x98\x80"]', False),
    (json.dumps(nested(1, MAX_DEPTH)).encode(), False),
    (json.dumps(nested(1, MAX_DEPTH + 1)).encode(), True),
    (json.dumps(nested([], MAX_DEPTH)).encode(), False),
    (json.dumps(nested({}, MAX_DEPTH + 1)).encode(), True)])
def test_the_edges(body: bytes, expected: bool) -> None:
    assert refused(body) == expected

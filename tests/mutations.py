"""Hypothesis strategies for hostile JSON: arbitrary trees, and valid documents bent a few
places at a time (a field dropped, retyped, emptied, repeated or replaced by junk), which
reach far deeper into a reader than random trees do."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

ODD_TEXT = ["", " ", "\x00", "\u202e", "\ud800", "9" * 400, "2026-02-30", "1899-12-31",
            "9999-12-31", "-1", "NaN", "urn:uuid:", "Patient/", "#", "<script>", "None",
            "true", "x" * 5000]
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(ODD_TEXT))


def trees(keys: st.SearchStrategy[str] = st.text(max_size=8)) -> st.SearchStrategy[Any]:
    """JSON-ish values (Python's json module also writes NaN and infinities)."""
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(keys, inner, max_size=5), max_leaves=30)


def _places(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value in `node`."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _places(value, (*path, index))
    return found


def _parent(root: Any, path: tuple) -> Any:
    for step in path[:-1]:
        root = root[step]
    return root


def _bend(document: Any, path: tuple, how: str, junk: Any) -> Any:
    if not path:
        return junk if how == "replace" else document
    parent, last = _parent(document, path), path[-1]
    value = parent[last]
    if how == "drop":
        del parent[last]
    elif how == "replace":
        parent[last] = junk
    elif how == "empty":
        parent[last] = type(value)() if isinstance(value, dict | list | str) else None
    elif how == "wrap":
        parent[last] = [value]
    elif how == "stringify":
        parent[last] = str(value)
    elif how == "repeat" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(value))
    return document


@st.composite
def bent(draw: st.DrawFn, document: Any, junk: st.SearchStrategy[Any] | None = None) -> Any:
    """`document` changed at one to four places."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 4))):
        places = _places(document)
        path = draw(st.sampled_from(places))
        how = draw(st.sampled_from(["drop", "replace", "replace", "empty", "wrap",
                                    "stringify", "repeat"]))
        document = _bend(document, path, how, draw(junk if junk is not None else trees()))
    return document

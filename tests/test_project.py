"""The project's own metadata: each dependency pinned once, in a compatible range."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _names(requirements: list[str]) -> list[str]:
    return [re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements]


def test_every_dependency_is_listed_once_with_a_range() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    listed = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    names = _names(listed)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert all("<" in r and ">=" in r for r in listed), [r for r in listed if "<" not in r]

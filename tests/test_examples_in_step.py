"""The repository's example cases and answers are copies of the shared contract's, kept equal.

The checkout needs nothing outside itself: tests, benchmarks and the README read `examples/`
and `screen-examples/`. Where the team's shared contract folder sits beside the checkout (or
beside its parent, as for a worktree), this test keeps the copies in step; elsewhere it skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO

CANDIDATES = [REPO.parent / "shared", REPO.parent.parent / "shared"]
CONTRACT = next((c / "contract" for c in CANDIDATES if (c / "contract").is_dir()), None)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*")) if p.is_file()}


@pytest.mark.skipif(CONTRACT is None, reason="no shared contract folder beside the checkout")
@pytest.mark.parametrize("folder", ["examples", "screen-examples"])
def test_copies_equal_the_shared_contract(folder):
    assert CONTRACT is not None
    assert files(REPO / folder) == files(CONTRACT / folder)


@pytest.mark.parametrize("folder", ["examples", "screen-examples"])
def test_copies_are_in_the_repository(folder):
    assert files(REPO / folder), f"{folder}/ is empty"

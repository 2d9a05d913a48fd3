"""How much the hostile-input tests try, and where they say what they sent.

The test command runs them at scale 1 (about two minutes together, the same examples every
run); `scripts/stress-fuzz` sets SIJCARE_FUZZ_SCALE (10 by default) and lets hypothesis draw
new examples each run. Each suite's counts go to test-artifacts/hostile-input/ (a file per
suite, as the two test workers write them) and the end of the pytest output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, settings

SCALE = max(1, int(os.environ.get("SIJCARE_FUZZ_SCALE", "1")))
COUNTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "hostile-input"


def examples(base: int) -> int:
    """`base` examples at scale 1, more under the stress run."""
    return base * SCALE


def fuzzing(base: int) -> settings:
    """Hypothesis settings for `base` examples (scaled): no deadline, no example database,
    fixed examples in the test command and fresh ones under stress."""
    return settings(max_examples=examples(base), deadline=None, derandomize=SCALE == 1,
                    database=None, suppress_health_check=list(HealthCheck))


def report_counts(suite: str, counts: dict[str, int]) -> None:
    """Keep `suite`'s counts for the summary at the end of the run."""
    COUNTS.mkdir(parents=True, exist_ok=True)
    (COUNTS / f"{suite.replace(' ', '-')}.json").write_text(json.dumps(
        {"suite": suite, "scale": SCALE, **counts}, indent=2))


def counts_since(started: float) -> list[dict]:
    """The counts the suites wrote after `started` (a time.time())."""
    return [json.loads(path.read_text()) for path in sorted(COUNTS.glob("*.json"))
            if path.stat().st_mtime >= started] if COUNTS.is_dir() else []

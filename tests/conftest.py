"""Shared builders: a complete, confirmed SI-joint case that each test bends one way."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from sijcare.engine import assess
from sijcare.model import Assessment, parse_case
from tests.fuzzing import counts_since

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"  # copies of the contract's example cases, kept in step by a test
SCREEN_EXAMPLES = REPO / "screen-examples"

BASE: dict[str, Any] = {
    "schema_version": 1,
    "as_of": "2026-11-01",
    "patient": {"id": "t-1", "birth_date": "1970-01-01", "sex": "female", "pregnant": False},
    "history": {
        "pain_onset": "2026-01-01", "pain_nrs": 7, "side": "left",
        "pain_areas": {"axial_low_back": 10, "sij_region": 70, "buttock_leg": 20,
                       "groin_anterior_thigh": 0},
        "below_l5": True, "below_knee": False, "fortin_finger": True,
        "aggravating": ["sitting"], "relieving": ["lying_knees_bent"], "onset": "insidious",
        "red_flags": [], "spa_features": [], "generalized_pain_disorder": False,
    },
    "conservative_care": [{"type": "physical_therapy", "start": "2026-02-01",
                           "end": "2026-05-01"}],
    "exam": {
        "provocation": {"distraction": "positive", "thigh_thrust": "positive",
                        "compression": "positive", "sacral_thrust": "negative",
                        "gaenslen_left": "negative", "gaenslen_right": "negative",
                        "faber": "positive", "yeoman": "negative"},
        "tenderness": {"psis": True, "long_posterior_sacroiliac_ligament": True,
                       "sacrotuberous_ligament": False, "sacral_sulcus": True},
        "straight_leg_raise": "negative", "neuro_deficit": False, "hip_rotation_pain": False,
    },
    "imaging": [{"date": "2026-03-01", "modality": "mri", "region": "sij", "findings": [],
                 "excludes_other_causes": True}],
    "blocks": [{"date": "2026-06-01", "side": "left", "target": "intra_articular",
                "guidance": "fluoroscopy", "contrast": True, "agent": "lidocaine",
                "pain_before": 8, "pain_after": 1}],
    "procedures": [],
    "medications": {"anticoagulant": False},
    "allergies": [],
    "proms": [],
}


def make(**changes: Any) -> dict[str, Any]:
    """A copy of BASE with dotted-path changes; the value `...` deletes the field."""
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        if value is ...:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def run(data: dict[str, Any], policy: str = "medicare", prior: float | None = None) -> Assessment:
    return assess(parse_case(data), policy=policy, prior=prior)


def criterion(result: Assessment, option: str, criterion_id: str) -> str:
    return next(c.status for c in result.eligibility[option].criteria if c.id == criterion_id)


def alert_ids(result: Assessment) -> list[tuple[str, str]]:
    return [(a.id, a.severity) for a in result.alerts]


@pytest.fixture
def base() -> dict[str, Any]:
    return make()


_STARTED = time.time()


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """The hostile-input suites' request and example counts, for the lead's report."""
    for counts in counts_since(_STARTED):
        terminalreporter.write_line(f"hostile input: {json.dumps(counts)}")

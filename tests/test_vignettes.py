"""Independent vignettes (tests/vignettes): hand-derived expectations under both policies.

Alerts and referrals are compared as sets of (id, level), as the vignettes were written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sijcare.engine import assess
from sijcare.model import load_case

HERE = Path(__file__).parent / "vignettes"
EXPECTED = json.loads((HERE / "expected.json").read_text())


def observed(result, expected: dict) -> dict:
    """The parts of an assessment a vignette pins, shaped like its expectation."""
    data = result.model_dump(mode="json")
    cluster = data["sij_likelihood"]["cluster"]
    block = {"result": data["block"]["result"]}
    if "relief_percent" in expected["block"]:
        block["relief_percent"] = data["block"]["relief_percent"]
    eligibility = {
        option: {"status": data["eligibility"][option]["status"],
                 "criteria": {c["id"]: c["status"]
                              for c in data["eligibility"][option]["criteria"]}}
        for option in expected["eligibility"]}
    outcomes = data["outcomes"]
    return {
        "stage": data["stage"],
        "cluster": {k: cluster[k] for k in ("result", "performed", "positive")},
        "posterior": round(data["sij_likelihood"]["posterior"], 3),
        "block": block,
        "eligibility": eligibility,
        "alerts": sorted(map(list, {(a["id"], a["severity"]) for a in data["alerts"]})),
        "referrals": sorted(map(list, {(r["id"], r["action"]) for r in data["referrals"]})),
        "odi": {k: (outcomes["odi"] or {}).get(k) for k in expected["odi"]},
        "nrs": {k: (outcomes["nrs"] or {}).get(k) for k in expected["nrs"]},
    }


@pytest.mark.parametrize("policy", ["medicare", "clinic"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vignette(name, policy):
    case = EXPECTED[name]
    expected = dict(case[policy])
    expected["alerts"] = sorted(expected["alerts"])
    expected["referrals"] = sorted(expected["referrals"])
    result = assess(load_case(HERE / name), policy=policy, prior=case["prior"])
    assert observed(result, expected) == expected

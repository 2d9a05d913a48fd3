"""Generated cases dense in the facts that make an option unsafe (ENGINE-RULES v3).

Each case starts from the complete, confirmed base case (so options are often `met` and an
unsafe `met` would show) and redraws every safety-relevant fact: the red-flag screen,
pregnancy with sex and age, allergies, anticoagulants and their plan, steroid and
regenerative dates close to `as_of`, blocks of both sides and targets (before onset, same
date, unguided), procedures of every kind (fusion included, guided or not, with and without
relief), and the findings of the differential. Every case is valid input by construction.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

from hypothesis import strategies as st

from tests.conftest import BASE
from tests.strategies import KINDS, RED_FLAGS, SIDES, SPA, TARGETS

AS_OF = date.fromisoformat(BASE["as_of"])
ONSET = date.fromisoformat(BASE["history"]["pain_onset"])
ABSENT = object()


def _day(back: int) -> str:
    return (AS_OF - timedelta(days=back)).isoformat()


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A value, or ABSENT (the field is not recorded)."""
    return st.one_of(st.just(ABSENT), strategy)


@st.composite
def _mostly(draw, safe: object, other: st.SearchStrategy) -> object:
    """The base case's safe value three times in four, else another draw: enough options
    stay `met` for an unsafe `met` to show."""
    return draw(other) if draw(st.integers(0, 3)) == 0 else safe


# Dates cluster near the boundaries the rules name: 28, 56 and 182 days, and onset.
recent = st.one_of(st.integers(0, 70), st.sampled_from([27, 28, 55, 56, 181, 182]),
                   st.integers(0, 700))

patient = st.fixed_dictionaries({
    "sex": _mostly("female", _maybe(st.sampled_from(["female", "male", "other", "unknown"]))),
    "age": _mostly(ABSENT, st.integers(10, 70)),
    "pregnant": _mostly(False, _maybe(st.booleans())),
})

history = st.fixed_dictionaries({
    "red_flags": _mostly([], _maybe(st.lists(st.sampled_from(RED_FLAGS), max_size=2,
                                             unique=True))),
    "side": _mostly("left", _maybe(st.sampled_from(SIDES))),
    "below_knee": _mostly(False, _maybe(st.booleans())),
    "spa_features": _mostly([], _maybe(st.lists(st.sampled_from(SPA), max_size=5,
                                                unique=True))),
    "pain_nrs": _mostly(7, _maybe(st.integers(0, 10))),
    "pain_onset": st.sampled_from([BASE["history"]["pain_onset"], "2025-12-01", "2026-06-01",
                                   "2026-09-15", ABSENT]),
})

exam = st.fixed_dictionaries({
    "neuro_deficit": _mostly(False, _maybe(st.booleans())),
    "straight_leg_raise": _mostly("negative", _maybe(st.sampled_from(["positive",
                                                                      "negative"]))),
    "hip_rotation_pain": _mostly(False, _maybe(st.booleans())),
})

block = st.fixed_dictionaries(
    {"date": st.integers(0, 700).map(_day),
     "guidance": st.sampled_from(["fluoroscopy", "fluoroscopy", "ct", "ultrasound", "none"]),
     "pain_before": st.integers(1, 10), "pain_after": st.integers(0, 10)},
    optional={"side": st.sampled_from(SIDES), "target": st.sampled_from(TARGETS)})


@st.composite
def procedure(draw) -> dict:
    back = draw(recent)
    found = draw(st.fixed_dictionaries(
        {"kind": st.sampled_from(KINDS)},
        optional={"side": st.sampled_from(SIDES),
                  "guidance": st.sampled_from(["fluoroscopy", "ct", "ultrasound", "none"]),
                  "relief_percent": st.integers(0, 100), "relief_weeks": st.integers(0, 100),
                  "relief_ongoing": st.booleans()}))
    if "relief_weeks" in found:  # no longer than the time since (invalid input otherwise)
        found["relief_weeks"] = min(found["relief_weeks"], back // 7 + 1)
    return {"date": _day(back), **found}


# A case ready for surgical evaluation under either policy: 26 weeks of care, two
# concordant intra-articular blocks, and a failed guided steroid injection and ablation.
READY = {
    "conservative_care": [{"type": "physical_therapy", "start": "2026-01-01",
                           "end": "2026-07-02"}],
    "blocks": [{"date": day, "side": "left", "target": "intra_articular",
                "guidance": "fluoroscopy", "pain_before": 8, "pain_after": 1}
               for day in ("2026-05-01", "2026-06-01")],
    "procedures": [{"date": "2026-07-01", "kind": "steroid_injection", "side": "left",
                    "guidance": "fluoroscopy", "relief_percent": 20, "relief_weeks": 4},
                   {"date": "2026-08-01", "kind": "rfa_cooled", "side": "left",
                    "guidance": "fluoroscopy", "relief_percent": 20, "relief_weeks": 4}],
}


@st.composite
def safety_cases(draw) -> dict:
    """The base case, or half the time one ready for fusion, with every safety fact redrawn."""
    data = copy.deepcopy(BASE)
    ready = draw(st.booleans())
    if ready:
        data.update(copy.deepcopy(READY))
    person = draw(patient)
    if person["age"] is not ABSENT:
        del data["patient"]["birth_date"]
        data["patient"]["age"] = person["age"]
    for key in ("sex", "pregnant"):
        data["patient"].pop(key, None)
        if person[key] is not ABSENT:
            data["patient"][key] = person[key]
    if data["patient"].get("sex") == "male" and data["patient"].get("pregnant"):
        data["patient"]["pregnant"] = False  # pregnant and male is invalid input
    for key, value in draw(history).items():
        data["history"].pop(key, None)
        if value is not ABSENT:
            data["history"][key] = value
    for key, value in draw(exam).items():
        data["exam"].pop(key, None)
        if value is not ABSENT:
            data["exam"][key] = value
    data["conservative_care"] = draw(_mostly(data["conservative_care"], st.sampled_from([
        [{"type": "physical_therapy", "start": "2025-11-01"}],  # ongoing, partly before onset
        [{"type": "physical_therapy", "start": "2026-01-01", "end": "2026-07-02"}],
        ABSENT])))
    data["blocks"] = draw(_mostly(data["blocks"], st.one_of(
        st.lists(block, max_size=4),
        st.lists(block, min_size=2, max_size=2).map(
            lambda pair: [{**b, "date": pair[0]["date"]} for b in pair]),  # one session
        st.just(ABSENT))))
    extra = draw(_maybe(st.lists(procedure(), max_size=4)))
    data["procedures"] = ABSENT if extra is ABSENT else data["procedures"] + extra
    data["allergies"] = draw(_mostly([], _maybe(st.lists(st.sampled_from(
        ["contrast", "local_anesthetic", "corticosteroid", "latex"]), max_size=2,
        unique=True))))
    data["medications"] = draw(_mostly({"anticoagulant": False}, _maybe(
        st.fixed_dictionaries({}, optional={"anticoagulant": st.booleans(),
                                            "anticoagulant_plan": st.booleans()}))))
    return {k: v for k, v in data.items() if v is not ABSENT}

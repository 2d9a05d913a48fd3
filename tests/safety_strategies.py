"""Generated cases dense in the facts that make an option unsafe (ENGINE-RULES v3).

Each case starts from the complete, confirmed base case, or half the time from one ready for
surgical evaluation (so options are often `met` and an unsafe `met` would show), and redraws
every safety-relevant fact: the red-flag screen, pregnancy with sex and age, allergies,
anticoagulants and their plan, steroid and regenerative dates close to `as_of`, blocks of both
sides and targets (before onset, same date, unguided), procedures of every kind (fusion
included, guided or not, with and without relief), and the findings of the differential.
Every case is valid input by construction.

Each fact is drawn whole from a catalogue of its variants (one draw, not one per field), which
keeps thousands of cases per policy within the suite's time and still shrinks to the
simplest variant when a property fails.
"""

from __future__ import annotations

import copy
import itertools
from datetime import date, timedelta

from hypothesis import strategies as st

from tests.conftest import BASE
from tests.strategies import KINDS, RED_FLAGS, SIDES, SPA, TARGETS

AS_OF = date.fromisoformat(BASE["as_of"])
ABSENT = object()  # the fact is not recorded
UNDATED = "undated"  # neither an age nor a birth date recorded


def _day(back: int) -> str:
    return (AS_OF - timedelta(days=back)).isoformat()


def _mostly(safe: object, variants: list) -> st.SearchStrategy:
    """The base case's safe value three times in four, else one of `variants`: enough options
    stay `met` for an unsafe `met` to show."""
    return st.sampled_from([safe] * (3 * len(variants)) + variants)


def _fields(**choices: list) -> list[dict]:
    """Every combination of the given field values, ABSENT leaving the field out."""
    names = list(choices)
    return [{n: v for n, v in zip(names, values, strict=True) if v is not ABSENT}
            for values in itertools.product(*(choices[n] for n in names))]


PATIENTS = [p for p in _fields(sex=["female", "male", "other", "unknown", ABSENT],
                               age=[ABSENT, UNDATED, 11, 12, 30, 50, 51, 65],
                               pregnant=[ABSENT, True, False])
            if not (p.get("sex") == "male" and p.get("pregnant"))]  # invalid input
RED_FLAG_SCREENS = [ABSENT, ["fever"], ["cancer_history", "saddle_anesthesia"],
                    *[[flag] for flag in RED_FLAGS[:4]]]
SPA_FEATURES = [ABSENT, SPA[:2], SPA[:3], SPA[:4]]
ONSETS = [BASE["history"]["pain_onset"], "2025-12-01", "2026-06-01", "2026-09-15", ABSENT]
CARE = [[{"type": "physical_therapy", "start": "2025-11-01"}],  # ongoing, partly before onset
        [{"type": "physical_therapy", "start": "2026-01-01", "end": "2026-07-02"}], ABSENT]
ALLERGIES = [ABSENT, ["local_anesthetic"], ["corticosteroid"], ["contrast", "latex"],
             ["local_anesthetic", "corticosteroid"]]
MEDICATIONS = [ABSENT, *_fields(anticoagulant=[ABSENT, True, False],
                                anticoagulant_plan=[ABSENT, True, False])]
# Dates near the boundaries the rules name: 28, 56 and 182 days, and months away.
DAYS_AGO = [0, 10, 27, 28, 55, 56, 100, 181, 182, 400, 700]
RELIEF = _fields(relief_percent=[ABSENT, 20, 60, 80], relief_weeks=[ABSENT, 4, 14],
                 relief_ongoing=[ABSENT, True, False])
PROCEDURES = [
    {"date": _day(back), "kind": kind, **fields, **relief}
    for back, kind in itertools.product(DAYS_AGO, KINDS)
    for fields in _fields(side=["left", "right", "bilateral", ABSENT],
                          guidance=["fluoroscopy", "none", ABSENT])
    for relief in RELIEF
    if relief.get("relief_weeks", 0) <= back // 7 + 1  # no longer than the time since
]
BLOCKS = [
    {"date": _day(back), "guidance": guidance, "pain_before": 8, "pain_after": after, **place}
    for back in (5, 60, 120, 400)
    for guidance in ("fluoroscopy", "ultrasound", "none")
    for after in (1, 3, 6)
    for place in _fields(side=[*SIDES, ABSENT], target=[*TARGETS[:2], ABSENT])
]

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
HISTORY = {"red_flags": _mostly([], RED_FLAG_SCREENS),
           "side": _mostly("left", [*SIDES, ABSENT]),
           "below_knee": _mostly(False, [True, ABSENT]),
           "spa_features": _mostly([], SPA_FEATURES),
           "pain_nrs": _mostly(7, [2, 4, 5, ABSENT]),
           "pain_onset": st.sampled_from(ONSETS)}
EXAM = {"neuro_deficit": _mostly(False, [True, ABSENT]),
        "straight_leg_raise": _mostly("negative", ["positive", ABSENT]),
        "hip_rotation_pain": _mostly(False, [True, ABSENT])}
SAFE_PATIENT = {"sex": "female", "pregnant": False}
# Built once: a strategy over a long list works out its label once, not at every draw.
PATIENT = _mostly(SAFE_PATIENT, PATIENTS)
MORE_BLOCKS = st.lists(st.sampled_from(BLOCKS), max_size=3)
MORE_PROCEDURES = st.lists(st.sampled_from(PROCEDURES), max_size=4)
ALLERGY = _mostly([], ALLERGIES)
MEDICATION = _mostly({"anticoagulant": False}, MEDICATIONS)
RECORDED = _mostly(True, [False])  # a list kept (with its entries) or not recorded at all


def _put(node: dict, key: str, value: object) -> None:
    node.pop(key, None)
    if value is not ABSENT:
        node[key] = value


@st.composite
def safety_cases(draw) -> dict:
    """The base case, or half the time one ready for fusion, with every safety fact redrawn."""
    data = copy.deepcopy(BASE)
    if draw(st.booleans()):
        data.update(copy.deepcopy(READY))
    person = dict(draw(PATIENT))
    if person.get("age") == UNDATED:
        del person["age"]
    elif "age" not in person:
        person["birth_date"] = BASE["patient"]["birth_date"]
    data["patient"] = {"id": "safety", **person}
    for key, strategy in HISTORY.items():
        _put(data["history"], key, draw(strategy))
    for key, strategy in EXAM.items():
        _put(data["exam"], key, draw(strategy))
    _put(data, "conservative_care", draw(_mostly(data["conservative_care"], CARE)))
    if draw(RECORDED):
        blocks = (data["blocks"] if draw(RECORDED) else []) + draw(MORE_BLOCKS)
        if len(blocks) > 1 and draw(st.booleans()):
            blocks[-1] = {**blocks[-1], "date": blocks[-2]["date"]}  # one session
        data["blocks"] = blocks
    else:
        del data["blocks"]
    if draw(RECORDED):
        data["procedures"] = data["procedures"] + draw(MORE_PROCEDURES)
    else:
        del data["procedures"]
    _put(data, "allergies", draw(ALLERGY))
    _put(data, "medications", draw(MEDICATION))
    return data

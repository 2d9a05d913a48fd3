"""Imported, not reviewed (issue 23's safety rule), as properties over generated episodes.

An imported fact that can stop an option counts at once; one that could open an option counts
only once a clinician accepts it. Each generated patient has two episodes of the same
clinician-typed records; the second also holds imported records no one reviewed. Then:

- never opens before review: no option and no criterion reads better on the second episode
  than on the first (where the imports are simply absent);
- stops at once: an option stopped for safety once the imports are accepted is not available
  before they are reviewed.

The records come from `tests/web/safety_cases.ready()` (a patient who meets every criterion),
thinned at random, and the imports from the facts the stops read, beside that patient's own
records arriving by import instead of by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from sijcare.model.assessment import Assessment
from sijcare.store import (
    add_record,
    create_episode,
    create_patient,
)
from sijcare.store.models import ImportedRecord
from sijcare.store.review import awaiting_review, review_import
from sijcare.web.assessing import assess_episode
from tests.store.helpers import clinic_with_clinician
from tests.web.safety_cases import TODAY, ago, ready

POLICIES = ("medicare", "clinic")
RANK = {"not_covered": 0, "not_met": 0, "unknown": 1, "met": 2}
Record = tuple[str, dict[str, Any]]

# The facts the safety stops read, as a hospital's record would bring them.
IMPORTS: list[Record] = [
    ("medications", {"allergies": ["corticosteroid"]}),
    ("medications", {"allergies": ["local_anesthetic"]}),
    ("medications", {"allergies": ["latex"]}),
    ("medications", {"anticoagulant": True}),
    ("medications", {"anticoagulant": True, "anticoagulant_plan": True}),
    ("medications", {"anticoagulant": False, "allergies": []}),
    ("intake", {"red_flags": ["fever"]}),
    ("intake", {"red_flags": []}),
    ("intake", {"pregnant": True}),
    ("intake", {"pregnant": False}),
    *[("procedure", {"date": ago(days), "kind": "steroid_injection", "side": "left",
                     "guidance": "fluoroscopy"}) for days in (10, 60, 100, 300)],
    ("procedure", {"date": ago(300), "kind": "mis_fusion", "side": "left"}),
    ("procedure", {"date": ago(100), "kind": "rfa_conventional", "side": "left",
                   "guidance": "fluoroscopy"}),
    ("procedure", {"date": ago(10), "kind": "prp", "side": "left", "guidance": "ultrasound"}),
    ("procedure", {"none": True}),
    ("block", {"none": True}),
]


@st.composite
def episodes(draw: st.DrawFn) -> tuple[list[Record], list[Record]]:
    """(typed by the clinician, imported and not reviewed)."""
    base = ready()
    typed = [record for record in base if draw(st.booleans())]
    moved = [record for record in base if record not in typed and draw(st.booleans())]
    imported = draw(st.lists(st.sampled_from(IMPORTS), max_size=4))
    return typed, moved + imported


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, int, int]]:
    with clinic_with_clinician(tmp_path_factory.mktemp("unreviewed") / "u.db") as made:
        yield made


def _episode(session: Session, clinic: int, user: int, patient: int, typed: list[Record],
             imported: list[Record]) -> int:
    episode = create_episode(session, patient, {"complaint": "Left buttock pain",
                                                "opened_on": ago(420)}, user)
    for kind, data in typed:
        add_record(session, episode.id, kind, data, user, TODAY)
    for n, (kind, data) in enumerate(imported):
        row = add_record(session, episode.id, kind, data, user, TODAY)
        session.add(ImportedRecord(clinic_id=clinic, source=f"e{episode.id}/{n}",
                                   kind="none" if "none" in data else kind, record_id=row.id,
                                   patient_id=patient, episode_id=episode.id))
    session.flush()
    return episode.id


def _assessed(session: Session, episode: int) -> dict[str, Assessment]:
    return {policy: assess_episode(session, episode, policy, TODAY) for policy in POLICIES}


def _criteria(assessment: Assessment) -> dict[tuple[str, str], str]:
    return {(option, c.id): c.status for option, result in assessment.eligibility.items()
            for c in result.criteria}


def _opened(before: Assessment, after: Assessment) -> list[str]:
    """What reads better on `after` than on `before`, option by option and criterion by one."""
    found = [f"{option}: {before.eligibility[option].status} -> {result.status}"
             for option, result in after.eligibility.items()
             if RANK[result.status] > RANK[before.eligibility[option].status]]
    earlier = _criteria(before)
    return found + [f"{key}: {earlier[key]} -> {status}" for key, status in
                    _criteria(after).items() if RANK[status] > RANK[earlier[key]]]


@settings(max_examples=int(os.environ.get("UNREVIEWED_EXAMPLES", "40")),
          deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
@given(drawn=episodes())
@example(drawn=([r for r in ready() if r[0] != "medications"],  # silent on the anaesthetic
                [("medications", {"allergies": ["corticosteroid"]})]))
@example(drawn=([r for r in ready() if r[0] != "procedure"],  # procedures become "known"
                [("procedure", {"date": ago(300), "kind": "steroid_injection", "side": "left",
                                "guidance": "fluoroscopy", "relief_percent": 20,
                                "relief_weeks": 2, "relief_ongoing": False})]))
@example(drawn=(ready(), [("procedure", {"date": ago(100), "kind": "rfa_conventional",
                                         "side": "left", "guidance": "fluoroscopy"})]))
def test_an_unreviewed_import_stops_at_once_and_never_opens(store, drawn) -> None:
    session, clinic, user = store
    typed, imported = drawn
    patient = create_patient(session, clinic, {"given_name": "Gen", "family_name": "Erated",
                                               "birth_date": "1980-01-01", "sex": "female"},
                             user).id
    alone = _episode(session, clinic, user, patient, typed, [])
    pending = _episode(session, clinic, user, patient, typed, imported)
    without, before = _assessed(session, alone), _assessed(session, pending)
    for row in awaiting_review(session, pending):
        review_import(session, row.id, True, user, TODAY)
    accepted = _assessed(session, pending)
    for policy in POLICIES:
        assert _opened(without[policy], before[policy]) == [], policy
        for option, result in accepted[policy].eligibility.items():
            if result.stopped_by:
                assert before[policy].eligibility[option].status != "met", (
                    policy, option, result.stopped_by)
    session.rollback()

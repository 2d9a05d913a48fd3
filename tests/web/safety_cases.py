"""Episodes that must never look ready: a red flag, a pregnancy, a local-anaesthetic or a
steroid allergy, a blocking steroid count, an anticoagulant without a plan, a block only on
the other side, and unrecorded safety facts (none recorded; a pregnancy not asked beside a
missing study, and an anticoagulation plan not documented beside the pain's missing onset,
which the safety fact must come before).

Each starts from one patient who meets every criterion (confirmed blocks, care, imaging, a good
steroid response) and changes one thing, so what the pages show can only come from that one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sijcare.store import add_record, create_episode, create_patient
from tests.web.conftest import World

TODAY = dt.date.today()
Records = list[tuple[str, dict[str, Any]]]


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def _steroid(days: int, side: str = "left") -> tuple[str, dict[str, Any]]:
    """A steroid injection `days` ago (at least 77, so that its 12 weeks of relief, recorded
    today, fit in the time since: ENGINE-RULES v3 refuses more)."""
    return ("procedure", {"date": ago(days), "kind": "steroid_injection", "side": side,
                          "guidance": "fluoroscopy", "relief_percent": 70, "relief_weeks": 12,
                          "relief_ongoing": False})


def ready(block_side: str = "left") -> Records:
    block = {"guidance": "fluoroscopy", "side": block_side, "target": "intra_articular",
             "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 1}]}
    return [
        ("intake", {"pain_onset": ago(400), "side": "left", "below_l5": True,
                    "below_knee": False, "red_flags": [], "fortin_finger": True,
                    "generalized_pain_disorder": False, "pregnant": False}),
        ("care_course", {"type": "physical_therapy", "start": ago(390), "end": ago(200)}),
        ("exam", {"provocation": {t: "positive" for t in (
            "distraction", "thigh_thrust", "compression", "sacral_thrust", "faber")},
            "neuro_deficit": False, "straight_leg_raise": "negative"}),
        ("imaging", {"date": ago(250), "modality": "mri", "region": "sij", "findings": [],
                     "excludes_other_causes": True}),
        ("block", {"date": ago(150), **block}), ("block", {"date": ago(120), **block}),
        _steroid(100, block_side),
        ("medications", {"anticoagulant": False, "allergies": []}),
    ]


def _changed(records: Records, kind: str, **changes: Any) -> Records:
    return [(k, {**d, **changes}) if k == kind else (k, d) for k, d in records]


def _without(records: Records, kind: str, key: str | None = None) -> Records:
    if key is None:
        return [(k, d) for k, d in records if k != kind]
    return [(k, {f: v for f, v in d.items() if f != key} if k == kind else d)
            for k, d in records]


CASES: dict[str, Records] = {
    "red_flag": _changed(ready(), "intake", red_flags=["saddle_anesthesia", "fever"]),
    "pregnant": _changed(ready(), "intake", pregnant=True),
    "allergy": _changed(ready(), "medications", allergies=["local_anesthetic"]),
    "steroid_allergy": _changed(ready(), "medications", allergies=["corticosteroid"]),
    # the latest 90 days ago, so that its 12 weeks of relief fit (v2 had it at 60 days)
    "steroids": [*_without(ready(), "procedure"), *(_steroid(d) for d in (330, 240, 150, 90))],
    "anticoagulated": _changed(ready(), "medications", anticoagulant=True,
                               anticoagulant_plan=False),
    # on an anticoagulant with no plan documented, and no onset of the pain recorded: the
    # plan must come before the pain's duration
    "plan_unknown": _without(_changed(ready(), "medications", anticoagulant=True), "intake",
                             "pain_onset"),
    "other_side": ready(block_side="right"),
    "unrecorded": _without(_without(ready(), "medications"), "intake", "pregnant"),
    # the diagnostic block is next; pregnancy is not asked and no study excludes other causes
    "ask_first": _without([(k, d) for k, d in ready() if k not in ("block", "procedure",
                                                                   "imaging")],
                          "intake", "pregnant"),
}


def make_episodes(world: World) -> dict[str, int]:
    """One female patient per case at north, each with one episode; name -> episode id."""
    made = {}
    with world.sessions() as db:
        for name, records in CASES.items():
            patient = create_patient(db, world.ids["north"], {
                "given_name": name.replace("_", " ").title(), "family_name": "Safety",
                "birth_date": "1980-01-01", "sex": "female"}, world.ids["clinician"])
            episode = create_episode(db, patient.id, {"complaint": "Left buttock pain",
                                                      "opened_on": ago(420)},
                                     world.ids["clinician"])
            for kind, data in records:
                add_record(db, episode.id, kind, data, world.ids["clinician"], TODAY)
            made[name] = episode.id
        db.commit()
    return made

"""Each record kind is saved in typed columns and reads back as it was given; bad forms save
nothing and say which field is wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sijcare.store import (
    RECORD_KINDS,
    AuditEvent,
    BlockRecord,
    ExamRecord,
    NotFound,
    RecordError,
    add_record,
    case_as_of,
    create_user,
    list_timeline,
    verify_chain,
)
from sijcare.store.forms import dump
from sijcare.store.kinds import KINDS
from tests.store.helpers import TODAY, World

SAMPLES: dict[str, dict[str, Any]] = {
    "intake": {
        "pain_onset": "2026-01-01", "pain_nrs": 7, "side": "left",
        "pain_areas": {"axial_low_back": 10, "sij_region": 70, "buttock_leg": 20},
        "below_l5": True, "below_knee": False, "fortin_finger": True,
        "aggravating": ["sitting", "stairs"], "relieving": [], "onset": "trauma",
        "red_flags": [], "spa_features": ["buttock_pain"], "generalized_pain_disorder": False,
        "pregnant": False},
    "exam": {
        "provocation": {"distraction": {"result": "positive", "side": "left",
                                        "familiar_pain": True},
                        "thigh_thrust": "positive", "compression": "negative"},
        "tenderness": {"psis": True, "sacral_sulcus": False},
        "straight_leg_raise": "negative", "neuro_deficit": False, "hip_rotation_pain": True},
    "imaging": {"date": "2026-02-01", "modality": "mri", "region": "sij",
                "findings": ["sclerosis"], "excludes_other_causes": True},
    "care_course": {"type": "physical_therapy", "start": "2026-02-01", "end": "2026-04-01"},
    "block": {"date": "2026-05-01", "side": "left", "target": "intra_articular",
              "guidance": "fluoroscopy", "contrast": True, "agent": "lidocaine",
              "diary": [{"minutes": m, "pain": p} for m, p in
                        [(0, 8), (15, 3), (30, 1), (60, 2), (120, 4), (240, 6), (360, 8)]]},
    "procedure": {"date": "2026-06-01", "kind": "steroid_injection", "side": "left",
                  "guidance": "fluoroscopy", "injectate": "triamcinolone 40 mg",
                  "complications": ["vasovagal"]},
    "prom": {"date": "2026-06-01", "instrument": "odi",
             "answers": [3, 2, None, 1, 0, 5, 2, 2, 1, 3]},
    "medications": {"anticoagulant": True, "allergies": ["contrast"]},
}
# An outcome names a procedure of its episode: tests/store/test_outcomes.py covers it.
STANDALONE_KINDS = tuple(kind for kind in RECORD_KINDS if kind != "procedure_outcome")
CASE_PART = {"intake": "history", "exam": "exam", "medications": "medications",
             **{k.name: k.case_field for k in KINDS.values() if k.case_field}}


def rows(session: Session, kind: str, episode_id: int) -> int:
    table = KINDS[kind].row
    return session.scalar(select(func.count()).select_from(table)
                          .where(table.episode_id == episode_id)) or 0


def test_samples_cover_every_kind() -> None:
    assert set(SAMPLES) == set(STANDALONE_KINDS) == set(CASE_PART)


@pytest.mark.parametrize("kind", STANDALONE_KINDS)
def test_each_kind_round_trips(session: Session, world: World, kind: str) -> None:
    add_record(session, world.episode_id, kind, SAMPLES[kind], world.user_id, TODAY)
    session.commit()
    session.expunge_all()  # read back from the database, not from the identity map
    form = KINDS[kind].form.model_validate(SAMPLES[kind])
    [entry] = list_timeline(session, world.episode_id)
    assert (entry.kind, entry.recorded_on, entry.recorded_by) == (kind, TODAY, world.user_id)
    assert entry.data == dump(form) and entry.summary
    part = getattr(case_as_of(session, world.episode_id, TODAY), CASE_PART[kind])
    assert (part[0] if isinstance(part, list) else part) == form.engine()


def test_exam_keeps_side_and_familiar_pain_in_columns(session: Session, world: World) -> None:
    row = add_record(session, world.episode_id, "exam", SAMPLES["exam"], world.user_id, TODAY)
    session.commit()
    exam = session.get(ExamRecord, row.id)
    assert exam is not None and exam.tender_psis is True and exam.tender_sacral_sulcus is False
    tests = {t.test: (t.result, t.side, t.familiar_pain) for t in exam.provocation}
    assert tests == {"compression": ("negative", None, None),
                     "distraction": ("positive", "left", True),
                     "thigh_thrust": ("positive", None, None)}


def test_block_diary_is_stored_as_timed_rows(session: Session, world: World) -> None:
    row = add_record(session, world.episode_id, "block", SAMPLES["block"], world.user_id, TODAY)
    session.commit()
    block = session.get(BlockRecord, row.id)
    assert block is not None
    assert [(e.minutes, e.pain) for e in block.diary] == [
        (0, 8), (15, 3), (30, 1), (60, 2), (120, 4), (240, 6), (360, 8)]
    [engine_block] = case_as_of(session, world.episode_id, TODAY).blocks or []
    assert (engine_block.pain_before, engine_block.pain_after) == (8, 1)


BLOCK = {"date": "2026-05-01", "guidance": "fluoroscopy"}
INVALID = [
    ("intake", {"pain_nrs": 11}, "pain_nrs"),
    ("intake", {"pain_nrs": "a lot"}, "pain_nrs"),
    ("intake", {"pain_areas": {"sij_region": 50}}, "pain_areas"),
    ("intake", {"red_flags": ["saddle"]}, "red_flags[0]"),
    ("intake", {"side": "left", "sidd": "left"}, "sidd"),
    ("intake", {"none": True}, "none"),
    ("exam", {"provocation": {"distraction": "maybe"}}, "provocation.distraction.result"),
    ("exam", {"provocation": {"fabre": "positive"}}, "provocation.fabre"),
    ("exam", {"provocation": {"faber": {"result": "positive", "familiar_pain": False}}},
     "provocation.faber"),
    ("imaging", {"date": "2026-02-30", "modality": "mri"}, "date"),
    ("imaging", {"none": True, "date": "2026-01-01"}, "date"),
    ("care_course", {"type": "physical_therapy", "start": "2026-03-01", "end": "2026-02-01"},
     "end"),
    ("block", {**BLOCK, "diary": [{"minutes": 15, "pain": 3}, {"minutes": 30, "pain": 1}]},
     "diary"),
    ("block", {**BLOCK, "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 11}]},
     "diary[1].pain"),
    ("block", {**BLOCK, "pain_before": 8, "pain_after": 1,
               "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 1}]}, "pain_before"),
    ("block", {**BLOCK, "diary": [{"minutes": 0, "pain": 0}, {"minutes": 30, "pain": 0}]},
     "diary"),
    ("procedure", {"date": "2026-06-01", "kind": "surgery"}, "kind"),
    ("procedure", {"date": "2026-06-01", "kind": "prp", "relief_percent": 120},
     "relief_percent"),
    ("prom", {"date": "2026-06-01", "instrument": "odi", "answers": [1, 2]}, ""),
    ("prom", {"date": "2026-06-01", "instrument": "nrs", "value": True}, "value"),
    ("medications", {}, ""),
    ("medications", {"allergies": ["peanuts"]}, "allergies[0]"),
]


@pytest.mark.parametrize(("kind", "data", "path"), INVALID)
def test_invalid_record_saves_nothing_and_names_the_field(
        session: Session, world: World, kind: str, data: dict[str, Any], path: str) -> None:
    entries = verify_chain(session).entries
    with pytest.raises(RecordError) as raised:
        add_record(session, world.episode_id, kind, data, world.user_id, TODAY)
    assert path in [where for where, _ in raised.value.problems]
    assert all(message for _, message in raised.value.problems)
    session.commit()
    assert rows(session, kind, world.episode_id) == 0
    assert list_timeline(session, world.episode_id) == []
    assert verify_chain(session).entries == entries


def test_half_valid_form_reports_every_problem(session: Session, world: World) -> None:
    data = {**SAMPLES["intake"], "pain_nrs": 12, "side": "up", "onset": "slowly"}
    with pytest.raises(RecordError) as raised:
        add_record(session, world.episode_id, "intake", data, world.user_id, TODAY)
    assert {p for p, _ in raised.value.problems} == {"pain_nrs", "side", "onset"}
    assert "side: Input should be 'left'" in str(raised.value)
    assert "'up'" not in str(raised.value)  # an error never repeats the value sent


@pytest.mark.parametrize(("kind", "field"), [("imaging", "date"), ("care_course", "start"),
                                             ("intake", "pain_onset")])
def test_events_cannot_postdate_their_recording(session: Session, world: World, kind: str,
                                                field: str) -> None:
    with pytest.raises(RecordError) as raised:
        add_record(session, world.episode_id, kind, SAMPLES[kind], world.user_id,
                   dt.date(2025, 12, 31))
    assert [p for p, _ in raised.value.problems] == [field]
    assert rows(session, kind, world.episode_id) == 0


def test_bad_kind_date_episode_and_actor(session: Session, world: World) -> None:
    with pytest.raises(RecordError, match="unknown record kind 'xray'"):
        add_record(session, world.episode_id, "xray", {}, world.user_id, TODAY)
    with pytest.raises(RecordError) as raised:
        add_record(session, world.episode_id, "prom", SAMPLES["prom"], world.user_id,
                   "2026-13-01")
    assert raised.value.problems[0][0] == "recorded_on"
    with pytest.raises(NotFound):
        add_record(session, 10**9, "prom", SAMPLES["prom"], world.user_id, TODAY)
    outsider = create_user(session, "outsider_records", "$argon2id$stub", "clinician", [])
    with pytest.raises(PermissionError):
        add_record(session, world.episode_id, "prom", SAMPLES["prom"], outsider.id, TODAY)
    assert rows(session, "prom", world.episode_id) == 0


def test_recorded_on_accepts_iso_text(session: Session, world: World) -> None:
    add_record(session, world.episode_id, "medications", SAMPLES["medications"], world.user_id,
               "2026-10-01")
    assert list_timeline(session, world.episode_id)[0].recorded_on == dt.date(2026, 10, 1)


def test_timeline_is_newest_first_and_shows_confirmed_none(session: Session,
                                                           world: World) -> None:
    for kind in ("intake", "imaging", "block", "procedure"):
        add_record(session, world.episode_id, kind, SAMPLES[kind], world.user_id, TODAY)
    add_record(session, world.episode_id, "care_course", {"none": True}, world.user_id,
               dt.date(2026, 3, 1))
    timeline = list_timeline(session, world.episode_id)
    assert [e.kind for e in timeline] == ["intake", "procedure", "block", "care_course",
                                          "imaging"]
    assert [e.date for e in timeline] == sorted((e.date for e in timeline), reverse=True)
    assert timeline[3].data == {"none": True} and "none" in timeline[3].summary.lower()


def test_every_write_is_audited(session: Session, world: World) -> None:
    before = verify_chain(session).entries
    row = add_record(session, world.episode_id, "prom", SAMPLES["prom"], world.user_id, TODAY)
    session.commit()
    report = verify_chain(session)
    assert report.ok and report.entries == before + 1
    last = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert last is not None
    assert (last.actor_id, last.action, last.object_type, last.object_id, last.clinic_id) == (
        world.user_id, "create", "prom", str(row.id), world.clinic_id)

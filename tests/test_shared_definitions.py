"""ENGINE-RULES 'Shared definitions': windows, durations, care weeks, counted blocks, relief."""

from __future__ import annotations

from datetime import date

import pytest

from sijcare.engine import facts
from sijcare.knowledge import load_knowledge
from sijcare.model import parse_case
from tests.conftest import alert_ids, criterion, make, run


def course(start, end=None, kind="physical_therapy"):
    return {"type": kind, "start": start, **({"end": end} if end else {})}


@pytest.mark.parametrize(("day", "inside"), [
    ("2025-11-01", False),  # exactly 365 days before as_of: outside
    ("2025-11-02", True),   # 364 days before: inside
    ("2026-11-01", True),   # as_of itself: inside
])
def test_rolling_12_months_edges(day, inside):
    derived = facts.Facts(parse_case(make()), load_knowledge())
    assert derived.in_window(date.fromisoformat(day)) is inside


@pytest.mark.parametrize(("onset", "met"), [
    ("2026-08-01", "met"),      # onset + 3 calendar months == as_of
    ("2026-08-02", "not_met"),  # one day short
    ("2026-07-31", "met"),
])
def test_pain_3_calendar_months_boundary(onset, met):
    result = run(make(history__pain_onset=onset))
    assert criterion(result, "diagnostic_sij_injection", "pain_3_months") == met


def test_calendar_months_clamp_to_month_end():
    assert facts.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert facts.add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert facts.add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)


@pytest.mark.parametrize(("months", "met"), [(3, "met"), (2.9, "not_met"), (12, "met")])
def test_pain_duration_months_alternative(months, met):
    result = run(make(history__pain_onset=..., history__pain_duration_months=months))
    assert criterion(result, "diagnostic_sij_injection", "pain_3_months") == met


def test_pain_duration_unknown_when_not_recorded():
    result = run(make(history__pain_onset=...))
    assert criterion(result, "diagnostic_sij_injection", "pain_3_months") == "unknown"


def care_weeks(data):
    return facts.Facts(parse_case(data), load_knowledge()).care_weeks


def weeks(*courses):
    return care_weeks(make(conservative_care=list(courses)))


def test_care_weeks_count_start_to_end():
    assert weeks(course("2026-06-01", "2026-06-29")) == 4


def test_overlapping_courses_do_not_add_up():
    both = weeks(course("2026-06-01", "2026-06-29"), course("2026-06-15", "2026-06-29", "nsaid"))
    assert both == 4


def test_contiguous_and_gapped_courses():
    assert weeks(course("2026-06-01", "2026-06-15"), course("2026-06-15", "2026-06-29")) == 4
    assert weeks(course("2026-06-01", "2026-06-08"), course("2026-07-01", "2026-07-08")) == 2


def test_ongoing_course_runs_to_as_of():
    assert weeks(course("2026-10-04")) == 4


def test_course_nested_inside_another():
    assert weeks(course("2026-06-01", "2026-07-27"), course("2026-06-10", "2026-06-20")) == 8


def test_care_absent_is_unknown_and_empty_is_zero():
    assert care_weeks(make(conservative_care=...)) is None
    assert weeks() == 0


@pytest.mark.parametrize(("end", "status", "stage_is_care"), [
    ("2026-06-28", "not_met", True),   # 27 days: 3.9 weeks
    ("2026-06-29", "met", False),      # 28 days: exactly 4 weeks
])
def test_four_week_boundary(end, status, stage_is_care):
    result = run(make(conservative_care=[course("2026-06-01", end)]))
    assert criterion(result, "diagnostic_sij_injection", "conservative_4_weeks") == status
    assert (result.stage == "conservative_care") is stage_is_care


def block(day, before=8, after=1, guidance="fluoroscopy"):
    return {"date": day, "side": "left", "guidance": guidance, "pain_before": before,
            "pain_after": after}


def test_latest_counted_block_ignores_unguided_ones():
    result = run(make(blocks=[block("2026-06-01", 8, 1), block("2026-07-01", 8, 8, "none")]))
    assert str(result.block.date) == "2026-06-01"
    assert result.block.result == "confirmed"
    assert ("block_not_image_guided", "warn") in alert_ids(result)


def test_only_unguided_blocks_count_as_no_block():
    result = run(make(blocks=[block("2026-07-01", guidance="none")]))
    assert result.block.result == "none"
    assert result.stage == "diagnostic_block"


@pytest.mark.parametrize("guidance", ["fluoroscopy", "ct", "ultrasound"])
def test_each_image_guidance_counts(guidance):
    assert run(make(blocks=[block("2026-06-01", guidance=guidance)])).block.result == "confirmed"


def test_latest_block_is_by_date_not_list_order():
    result = run(make(blocks=[block("2026-07-01", 8, 6), block("2026-06-01", 8, 1)]))
    assert str(result.block.date) == "2026-07-01"
    assert result.block.result == "negative"


@pytest.mark.parametrize(("before", "after", "relief"), [
    (7, 1, 85.7), (8, 1, 87.5), (3, 2, 33.3), (6, 1, 83.3), (9, 4, 55.6), (4, 1, 75.0),
    (8, 9, -12.5),
])
def test_relief_percent_rounded_to_one_decimal(before, after, relief):
    assert run(make(blocks=[block("2026-06-01", before, after)])).block.relief_percent == relief


def test_radicular_pattern_needs_below_knee_and_a_sign():
    deficit = run(make(history__below_knee=True, exam__neuro_deficit=True))
    slr = run(make(history__below_knee=True, exam__straight_leg_raise="positive"))
    neither = run(make(history__below_knee=True))
    assert [d.id for d in deficit.differential] == ["lumbar_radicular"]
    assert slr.differential[0].support == ("below_knee", "straight_leg_raise")
    assert neither.differential == []


def test_hip_pattern():
    result = run(make(exam__hip_rotation_pain=True))
    assert [d.id for d in result.differential] == ["hip"]

"""The case format: every field validated, absent kept distinct from false/[], errors named."""

from __future__ import annotations

import json

import pytest

from sijcare.engine import assess
from sijcare.model import CaseError, load_case, parse_case
from sijcare.model.loading import parse_text
from tests.conftest import make


def problems(data: dict) -> list[str]:
    with pytest.raises(CaseError) as caught:
        parse_case(data)
    return caught.value.problems


def test_base_case_is_valid():
    case = parse_case(make())
    assert case.patient.id == "t-1"
    assert str(case.as_of) == "2026-11-01"


def test_absent_lists_stay_distinct_from_empty():
    absent = parse_case(make(conservative_care=..., imaging=..., blocks=...))
    empty = parse_case(make(conservative_care=[], imaging=[], blocks=[]))
    assert absent.conservative_care is None and empty.conservative_care == []
    assert absent.imaging is None and empty.imaging == []
    assert absent.blocks is None and empty.blocks == []


def test_absent_boolean_is_none_not_false():
    case = parse_case(make(history__below_knee=...))
    assert case.history.below_knee is None


@pytest.mark.parametrize(("changes", "path", "words"), [
    ({"history__colour": "red"}, "history.colour", "not a field"),
    ({"history__pain_nrs": 11}, "history.pain_nrs", "less than or equal to 10"),
    ({"history__pain_nrs": -1}, "history.pain_nrs", "greater than or equal to 0"),
    ({"history__pain_nrs": "seven"}, "history.pain_nrs", ""),
    ({"history__pain_nrs": True}, "history.pain_nrs", "not true/false"),
    ({"history__side": "middle"}, "history.side", "middle"),
    ({"history__below_l5": "maybe"}, "history.below_l5", "boolean"),
    ({"history__red_flags": ["headache"]}, "history.red_flags[0]", "headache"),
    ({"as_of": "2026-02-30"}, "as_of", "not a real date"),
    ({"as_of": "01/11/2026"}, "as_of", "YYYY-MM-DD"),
    ({"as_of": ...}, "as_of", "required"),
    ({"patient__id": ...}, "patient.id", "required"),
    ({"schema_version": 2}, "schema_version", "only schema_version 1"),
    ({"exam__provocation__gaenslen": "positive"}, "exam.provocation.gaenslen", "not a field"),
    ({"exam__provocation__faber": "yes"}, "exam.provocation.faber", "yes"),
    ({"history__pain_areas": {"sij_region": 60, "axial_low_back": 10}}, "history.pain_areas",
     "sum to 100"),
    ({"proms": [{"date": "2026-06-01", "instrument": "odi",
                 "answers": [1, 2, 3, 4, 6, 0, 1, 2, 3, 4]}]}, "proms[0].answers[4]",
     "less than or equal to 5"),
    ({"proms": [{"date": "2026-06-01", "instrument": "odi", "answers": [1, 2]}]}, "proms[0]",
     "10 sections"),
    ({"proms": [{"date": "2026-06-01", "instrument": "nrs", "value": 12}]}, "proms[0]",
     "between 0 and 10"),
])
def test_invalid_fields_are_named(changes, path, words):
    found = problems(make(**changes))
    assert any(p.startswith(path) and words in p for p in found), found


def test_block_with_zero_pain_before_is_invalid():
    block = dict(make()["blocks"][0], pain_before=0)
    found = problems(make(blocks=[block]))
    assert any(p.startswith("blocks[0].pain_before") for p in found), found


def test_course_ending_before_start_is_invalid():
    found = problems(make(conservative_care=[
        {"type": "physical_therapy", "start": "2026-05-01", "end": "2026-04-01"}]))
    assert any(p.startswith("conservative_care[0].end") and "before the start" in p
               for p in found)


def test_events_after_as_of_are_invalid():
    block = dict(make()["blocks"][0], date="2026-12-01")
    found = problems(make(blocks=[block]))
    assert any("blocks[0].date" in p and "after as_of" in p for p in found), found


def test_every_problem_is_reported_at_once():
    found = problems(make(history__pain_nrs=12, history__side="up"))
    assert len(found) == 2


def test_yaml_bare_and_quoted_dates_load_alike():
    bare = parse_text("as_of: 2026-11-01\npatient: {id: a}\n")
    quoted = parse_text("as_of: '2026-11-01'\npatient: {id: a}\n")
    assert parse_case(bare) == parse_case(quoted)


def test_yaml_impossible_bare_date_is_a_field_error_not_a_crash():
    data = parse_text("as_of: 2026-02-30\npatient: {id: a}\n")
    with pytest.raises(CaseError) as caught:
        parse_case(data)
    assert caught.value.problems[0].startswith("as_of:")


def test_json_file_and_stdin(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(make()))
    assert load_case(path) == load_case("-", json.dumps(make()))


def test_missing_file_and_bad_syntax_are_case_errors(tmp_path):
    with pytest.raises(CaseError, match="no such case file"):
        load_case(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("as_of: [unclosed\n")
    with pytest.raises(CaseError, match="not valid YAML"):
        load_case(bad)


def test_a_list_is_not_a_case():
    with pytest.raises(CaseError, match="mapping"):
        parse_case([1, 2])


def test_union_members_report_one_problem_per_field():
    found = problems(make(history__pain_nrs="seven"))
    assert found == ["history.pain_nrs: Input should be a valid number, unable to parse string "
                     "as a number"]


def test_whole_floats_read_as_whole_numbers():
    case = parse_case(make(history__pain_nrs=7.0, proms=[
        {"date": "2026-06-01", "instrument": "nrs", "value": 6.0}]))
    assert case.history.pain_nrs == 7 and isinstance(case.history.pain_nrs, int)
    assert isinstance(case.proms[0].value, int)


def test_descriptive_fields_take_free_text_but_codes_stay_coded():
    imaging = {"date": "2026-03-01", "modality": "mri", "region": "lumbar_spine",
               "findings": ["Joint space narrowing"]}
    block = {"date": "2026-06-01", "guidance": "ct", "pain_before": 8, "pain_after": 2,
             "agent": "Bupivacaine 0.5%", "target": "extra_articular"}
    case = parse_case(make(imaging=[imaging], blocks=[block], conservative_care=[
        {"type": "Pelvic belt", "start": "2026-05-01"}]))
    assert case.blocks[0].agent == "Bupivacaine 0.5%"
    found = problems(make(imaging=[dict(imaging, modality="x-ray")]))
    assert found[0].startswith("imaging[0].modality")


def test_a_course_ending_after_as_of_is_invalid():
    found = problems(make(conservative_care=[
        {"type": "physical_therapy", "start": "2026-05-01", "end": "2026-12-01"}]))
    assert any("conservative_care[0].end" in p and "after as_of" in p for p in found), found


@pytest.mark.parametrize(("day", "problem"), [
    ("0001-01-02", "is before 1900-01-01: not a plausible date"),
    ("9999-12-31", "is after 2999-12-31: not a plausible date"),
])
def test_dates_outside_the_plausible_calendar_are_one_error_each(day, problem):
    """The rules reach a year or two around each date; year 1 or 9999 would leave the calendar
    (an OverflowError answered 500 on POST /api/v1/assess)."""
    with pytest.raises(CaseError) as raised:
        parse_case({"as_of": day, "patient": {"id": "x"},
                    "procedures": [{"date": day, "kind": "prp"}]})
    assert raised.value.problems == [f"as_of: {problem}", f"procedures[0].date: {problem}"]


def test_the_edges_of_the_plausible_calendar_assess():
    for case in ({"as_of": "1900-01-02", "patient": {"id": "x"},
                  "history": {"pain_duration_months": 3},
                  "procedures": [{"date": "1900-01-01", "kind": "prp"}]},
                 {"as_of": "2999-12-31", "patient": {"id": "x"},
                  "procedures": [{"date": "2999-12-01", "kind": "rfa_cooled"}]}):
        assert assess(parse_case(case)).stage

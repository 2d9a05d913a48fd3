"""The first visit in one form, saved whole or not at all; all errors at once in plain words;
the exam table and its helpers; what is carried forward; pregnancy only where it applies."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import TODAY, World
from tests.web.test_forms import error_of

DAY = TODAY.isoformat()
TESTS = ("distraction", "thigh_thrust", "compression", "sacral_thrust", "gaenslen_left",
         "gaenslen_right", "faber", "yeoman")


def new_episode(client: TestClient, sex: str = "female") -> int:
    patient = client.post("/api/v1/patients", json={
        "given_name": "Prima", "family_name": f"Visit {sex}", "birth_date": "1971-06-07",
        "sex": sex}).json()
    return client.post(f"/api/v1/patients/{patient['id']}/episodes", json={
        "complaint": "Left buttock pain", "opened_on": DAY}).json()["id"]


@pytest.fixture(scope="module")
def episode(clinician: TestClient) -> int:
    return new_episode(clinician)


def records(client: TestClient, episode: int) -> list[dict]:
    return client.get(f"/api/v1/episodes/{episode}/records").json()


def first_visit(client: TestClient, episode: int, form: dict):
    return client.post(f"/episodes/{episode}/records/first_visit", data=form,
                       follow_redirects=False)


VISIT = {
    "intake.pain_onset": (TODAY - timedelta(days=90)).isoformat(), "intake.pain_nrs": "7",
    "intake.side": "left", "intake.red_flags": "__none__", "intake.pregnant": "no",
    "exam.provocation.distraction.result": "positive",
    "exam.provocation.distraction.familiar_pain": "yes",
    "exam.provocation.distraction.side": "left",
    "exam.provocation.thigh_thrust.result": "positive",
    "exam.provocation.thigh_thrust.familiar_pain": "yes",
    "exam.provocation.gaenslen_left.result": "negative",
    "prom.nrs": "7", **{f"prom.odi.{i}": "2" for i in range(1, 11)},
    "medications.anticoagulant": "no", "medications.allergies": ["latex", "contrast"],
    "care_course.type": "physical_therapy",
    "care_course.start": (TODAY - timedelta(days=60)).isoformat(),
    "recorded_on": DAY,
}


def test_one_save_records_every_part_of_the_visit(clinician: TestClient,
                                                  episode: int) -> None:
    answer = first_visit(clinician, episode, VISIT)
    assert answer.status_code == 303, answer.text[:2000]
    kinds = sorted(r["kind"] for r in records(clinician, episode))
    assert kinds == ["care_course", "exam", "intake", "medications", "prom", "prom"]
    case = clinician.get(f"/api/v1/episodes/{episode}/assessment").json()
    assert case["stage"]  # the whole visit makes a case the engine assesses
    saved = {r["kind"]: r["data"] for r in records(clinician, episode)}
    assert saved["medications"]["allergies"] == ["latex", "contrast"]
    assert saved["intake"]["pregnant"] is False
    assert saved["exam"]["provocation"]["gaenslen_left"] == {"result": "negative"}


def test_a_half_valid_visit_saves_nothing_and_shows_every_error_in_plain_words(
        clinician: TestClient) -> None:
    episode = new_episode(clinician)
    broken = {**VISIT, "intake.pain_nrs": "11",
              "intake.pain_onset": (TODAY + timedelta(days=5)).isoformat(),
              "exam.provocation.faber.result": "positive",
              "exam.provocation.faber.familiar_pain": "no",
              "care_course.start": ""}
    answer = first_visit(clinician, episode, broken)
    assert answer.status_code == 422
    assert records(clinician, episode) == []  # all or nothing
    page = answer.text
    assert error_of(page, "intake.pain_nrs") == "must be 10 or less"
    assert "is after today" in error_of(page, "intake.pain_onset")
    assert "familiar pain" in error_of(page, "exam.provocation.faber.result")
    assert error_of(page, "care_course.start") == "is required"
    assert "Input should" not in page
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert "please correct 4 problems" in summary
    assert summary.count("<li>") == 4
    assert 'value="11"' in page  # what was typed stays


def test_the_helpers_fill_the_exam_table_without_saving(clinician: TestClient) -> None:
    episode = new_episode(clinician)
    answer = first_visit(clinician, episode, {"fill": "negative", "intake.pain_nrs": "6"})
    assert answer.status_code == 200
    assert records(clinician, episode) == []
    for test in TESTS:
        name = f"exam.provocation.{test}.result"
        assert re.search(rf'name="{re.escape(name)}" value="negative" checked', answer.text)
    assert 'value="6"' in answer.text  # the rest of what was typed is kept
    cleared = first_visit(clinician, episode, {"fill": "not_performed",
                                               "exam.provocation.faber.result": "positive"})
    assert not re.search(r'value="(positive|negative)" checked', cleared.text)


def test_the_exam_is_a_table_and_gaenslen_asks_no_side(clinician: TestClient,
                                                      episode: int) -> None:
    page = clinician.get(f"/episodes/{episode}/records/exam").text
    assert '<table class="exam-table">' in page
    assert 'name="provocation.faber.side"' in page
    assert 'name="provocation.gaenslen_left.side"' not in page
    assert 'name="provocation.gaenslen_right.side"' not in page
    assert page.count('name="fill"') == 2


def test_pregnancy_is_not_asked_of_male_patients(clinician: TestClient) -> None:
    male, female = new_episode(clinician, "male"), new_episode(clinician, "female")
    for kind, name in (("intake", "pregnant"), ("first_visit", "intake.pregnant")):
        assert f'name="{name}"' not in clinician.get(f"/episodes/{male}/records/{kind}").text
        assert f'name="{name}"' in clinician.get(f"/episodes/{female}/records/{kind}").text
    sent = first_visit(clinician, male, {**VISIT, "intake.pregnant": "yes"})
    assert sent.status_code == 303
    intake = next(r for r in records(clinician, male) if r["kind"] == "intake")
    assert "pregnant" not in intake["data"]  # not asked, so not recorded


def test_the_next_visit_starts_from_what_stays_true(clinician: TestClient,
                                                   episode: int) -> None:
    medications = clinician.get(f"/episodes/{episode}/records/medications").text
    assert re.search(r'value="latex" checked', medications)
    assert re.search(r'name="anticoagulant" value="no" checked', medications)
    intake = clinician.get(f"/episodes/{episode}/records/intake").text
    assert re.search(r'<option value="left" selected>', intake)
    assert "Filled in from the last visit" in intake
    assert not re.search(r'name="pain_nrs" value="7"', intake)  # asked afresh
    assert not re.search(rf'name="red_flags" value="{"__none__"}" checked', intake)
    blank = clinician.get(f"/episodes/{new_episode(clinician)}/records/medications").text
    assert "Filled in from the last visit" not in blank


def test_v2_fields_reach_the_case(world: World, clinician: TestClient, episode: int) -> None:
    """Block side and target, procedure relief, PGIC, allergies and pregnancy are recordable."""
    block = {"date": DAY, "side": "left", "target": "lateral_branch",
             "guidance": "fluoroscopy", "diary.0": "8", "diary.30": "2", "recorded_on": DAY}
    # v3: relief typed today lasted at most the time since the procedure (plus a week)
    three_weeks_ago = (TODAY - timedelta(days=21)).isoformat()
    procedure = {"date": three_weeks_ago, "kind": "steroid_injection", "side": "left",
                 "relief_percent": "60", "relief_weeks": "3", "relief_ongoing": "yes",
                 "recorded_on": DAY}
    for kind, form in (("block", block), ("procedure", procedure),
                       ("prom", {"date": DAY, "pgic": "2", "recorded_on": DAY})):
        sent = clinician.post(f"/episodes/{episode}/records/{kind}", data=form,
                              follow_redirects=False)
        assert sent.status_code == 303, sent.text[:1000]
    from sijcare.store import case_as_of

    with world.sessions() as db:
        case = case_as_of(db, episode, TODAY)
    assert (case.blocks[0].side, case.blocks[0].target) == ("left", "lateral_branch")
    assert (case.procedures[0].relief_percent, case.procedures[0].relief_weeks,
            case.procedures[0].relief_ongoing) == (60, 3, True)
    assert [p.value for p in case.proms if p.instrument == "pgic"] == [2]
    assert case.allergies == ["latex", "contrast"] and case.patient.pregnant is False
    bad = clinician.post(f"/episodes/{episode}/records/prom",
                         data={"date": DAY, "pgic": "9", "recorded_on": DAY})
    assert bad.status_code == 422 and error_of(bad.text, "pgic")


def test_every_problem_of_the_visit_shows_in_one_round_once_and_in_form_order(
        clinician: TestClient) -> None:
    """The issue's three rounds in one: an impossible date, a non-number, a contradictory tick,
    a negative duration, NRS 11, shares summing to 70, an end before its start, and a visit
    day in the future (which the store used to report before anything else, once per part)."""
    episode = new_episode(clinician)
    broken = {**VISIT, "intake.pain_onset": "2024-02-30", "intake.pain_nrs": "abc",
              "intake.red_flags": ["__none__", "fever"], "intake.pain_duration_months": "-3",
              "intake.pain_areas.sij_region": "50", "intake.pain_areas.buttock_leg": "20",
              "prom.nrs": "11",
              "care_course.start": (TODAY - timedelta(days=10)).isoformat(),
              "care_course.end": (TODAY - timedelta(days=20)).isoformat(),
              "recorded_on": (TODAY + timedelta(days=3)).isoformat()}
    page = first_visit(clinician, episode, broken).text
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    items = re.findall(r'<a href="#(f-[a-z-]+)">[^<]*</a>', summary)
    assert items == ["f-intake-pain-onset", "f-intake-pain-duration-months", "f-intake-pain-nrs",
                     "f-intake-pain-areas-axial-low-back", "f-intake-red-flags", "f-prom-nrs",
                     "f-care-course-end", "f-recorded-on"]
    assert summary.count("<li>") == len(items)  # nothing above the form, nothing twice
    assert error_of(page, "care_course.end").startswith("is before the start")
    assert error_of(page, "prom.nrs") == "must be 10 or less"
    assert page.count("it cannot have happened yet") == 2  # the field and its summary line
    assert records(clinician, episode) == []

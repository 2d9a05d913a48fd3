"""The forms ask what ENGINE-RULES v3's safety criteria read and refuse what v3 makes invalid.

The medications form asks for the peri-procedural anticoagulation plan once an anticoagulant
is taken (shown always without JavaScript, with a hint saying when it applies); pregnancy is
asked of every patient who could be pregnant (every sex but male). Relief longer than the
time since its procedure, a date before the birth date, a pregnancy for a male patient and a
correction that would make recorded facts so are refused next to the input, in the engine's
words (`model/plausibility.py`), every problem at once.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from sijcare.model.plausibility import PREGNANT_MALE, before_birth, relief_overrun
from tests.web.conftest import TODAY, World
from tests.web.test_forms import error_of

DAY = TODAY.isoformat()
BORN = "1971-06-07"
WEEKS_AGO_3 = TODAY - timedelta(days=21)


def new_episode(client: TestClient, sex: str = "female") -> int:
    patient = client.post("/api/v1/patients", json={
        "given_name": "Sana", "family_name": f"Forms {sex}", "birth_date": BORN,
        "sex": sex}).json()
    return client.post(f"/api/v1/patients/{patient['id']}/episodes", json={
        "complaint": "Left buttock pain", "opened_on": DAY}).json()["id"]


@pytest.fixture(scope="module")
def episode(clinician: TestClient) -> int:
    return new_episode(clinician)


def post(client: TestClient, episode: int, kind: str, form: dict):
    return client.post(f"/episodes/{episode}/records/{kind}", data={"recorded_on": DAY, **form},
                       follow_redirects=False)


def records(client: TestClient, episode: int, kind: str) -> list[dict]:
    return [r for r in client.get(f"/api/v1/episodes/{episode}/records").json()
            if r["kind"] == kind]


def test_the_plan_is_asked_once_an_anticoagulant_is_taken(clinician: TestClient,
                                                          episode: int) -> None:
    for kind, prefix in (("medications", ""), ("first_visit", "medications.")):
        page = clinician.get(f"/episodes/{episode}/records/{kind}").text
        field = re.search(rf'<div class="field"( data-asked-when="[^"]*")?>\s*<fieldset '
                          rf'class="choices" id="f-{prefix.replace(".", "-")}anticoagulant-plan"',
                          page)
        assert field and field.group(1) == f' data-asked-when="{prefix}anticoagulant=yes"'
        assert "Asked when an anticoagulant is taken" in page
    assert post(clinician, episode, "medications", {"anticoagulant": "yes",
                                                    "anticoagulant_plan": "no"}).status_code == 303
    assert records(clinician, episode, "medications")[0]["data"] == {
        "anticoagulant": True, "anticoagulant_plan": False}
    facts = clinician.get(f"/episodes/{episode}").text
    assert re.search(r"<dt>Anticoagulation:</dt><dd>anticoagulant, no plan</dd>", facts)
    assessment = clinician.get(f"/api/v1/episodes/{episode}/assessment",
                               params={"policy": "clinic"}).json()
    plan = next(c for c in assessment["eligibility"]["mis_sij_fusion"]["criteria"]
                if c["id"] == "anticoagulation_addressed")
    assert plan["status"] == "not_met" and plan["safety"]
    # asked afresh at the next visit: a plan is agreed for a procedure, not carried forward
    again = clinician.get(f"/episodes/{episode}/records/medications").text
    assert re.search(r'name="anticoagulant" value="yes" checked', again)
    assert not re.search(r'name="anticoagulant_plan" value="(yes|no)" checked', again)


@pytest.mark.parametrize(("kind", "prefix"), [("medications", ""),
                                              ("first_visit", "medications.")])
def test_a_plan_without_an_anticoagulant_is_refused_beside_it(
        clinician: TestClient, kind: str, prefix: str) -> None:
    episode = new_episode(clinician)
    answer = post(clinician, episode, kind, {f"{prefix}anticoagulant": "no",
                                             f"{prefix}anticoagulant_plan": "yes"})
    assert answer.status_code == 422
    assert error_of(answer.text, f"{prefix}anticoagulant_plan") == (
        "is asked only when the patient takes an anticoagulant")
    assert records(clinician, episode, "medications") == []


@pytest.mark.parametrize("sex", ["female", "other", "unknown", "male"])
def test_pregnancy_is_asked_whenever_the_patient_could_be_pregnant(clinician: TestClient,
                                                                   sex: str) -> None:
    episode = new_episode(clinician, sex)
    for kind, name in (("intake", "pregnant"), ("first_visit", "intake.pregnant")):
        page = clinician.get(f"/episodes/{episode}/records/{kind}").text
        assert (f'name="{name}"' in page) == (sex != "male"), (sex, kind)


def test_a_pregnancy_sent_for_a_male_patient_is_refused_in_the_engines_words(
        clinician: TestClient) -> None:
    episode = new_episode(clinician, "male")
    answer = clinician.post(f"/api/v1/episodes/{episode}/records/intake", json={
        "recorded_on": DAY, "data": {"pain_nrs": 5, "pregnant": True}})
    assert answer.status_code == 422
    assert [(p["loc"], p["msg"]) for p in answer.json()["detail"]] == [
        (["body", "data", "pregnant"], PREGNANT_MALE)]


def test_relief_longer_than_the_time_since_is_refused_beside_it(clinician: TestClient,
                                                                episode: int) -> None:
    procedure = {"date": WEEKS_AGO_3.isoformat(), "kind": "steroid_injection", "side": "left",
                 "relief_percent": "60", "relief_weeks": "5"}
    answer = post(clinician, episode, "procedure", procedure)
    assert answer.status_code == 422
    assert error_of(answer.text, "relief_weeks") == relief_overrun(5, WEEKS_AGO_3, TODAY) == (
        f"5 weeks is longer than the 21 days since the procedure on {WEEKS_AGO_3}")
    assert 'name="relief_weeks" value="5"' in answer.text  # what was typed is kept
    assert post(clinician, episode, "procedure", {**procedure, "relief_weeks": "4"}
                ).status_code == 303
    [saved] = records(clinician, episode, "procedure")
    followed = WEEKS_AGO_3 + timedelta(days=7)
    outcome = {"procedure_id": str(saved["id"]), "date": followed.isoformat(),
               "relief_percent": "50", "relief_weeks": "3"}
    answer = post(clinician, episode, "procedure_outcome", outcome)
    assert answer.status_code == 422  # a week after the procedure: two weeks at most
    assert error_of(answer.text, "relief_weeks") == relief_overrun(3, WEEKS_AGO_3, followed)
    assert post(clinician, episode, "procedure_outcome", {**outcome, "relief_weeks": "2"}
                ).status_code == 303


def test_a_date_before_the_birth_date_shows_with_the_forms_other_problems(
        clinician: TestClient, episode: int) -> None:
    answer = post(clinician, episode, "block", {"date": "1971-06-06", "guidance": "fluoroscopy",
                                                "diary.0": "0", "diary.30": "0"})
    assert answer.status_code == 422
    assert error_of(answer.text, "date") == before_birth(TODAY.replace(1971, 6, 6),
                                                         TODAY.replace(1971, 6, 7))
    assert "baseline pain is 0" in error_of(answer.text, "diary.0")  # at once


def test_a_correction_that_would_make_records_invalid_is_refused_beside_it(
        clinician: TestClient) -> None:
    patient = clinician.post("/api/v1/patients", json={
        "given_name": "Cora", "family_name": "Correct", "birth_date": BORN,
        "sex": "female"}).json()["id"]
    episode = clinician.post(f"/api/v1/patients/{patient}/episodes", json={
        "complaint": "Left buttock pain", "opened_on": DAY}).json()["id"]
    assert post(clinician, episode, "intake", {"pain_nrs": "6", "pregnant": "yes"}
                ).status_code == 303
    assert post(clinician, episode, "care_course", {"type": "nsaid", "start": "2000-01-01"}
                ).status_code == 303
    sent = {"family_name": "Correct", "given_name": "Cora", "reason": "typed wrongly"}
    answer = clinician.post(f"/patients/{patient}/edit", data={
        **sent, "birth_date": "2001-01-01", "sex": "male"}, follow_redirects=False)
    assert answer.status_code == 422  # both at once, each beside its input
    assert error_of(answer.text, "birth_date") == (
        f"{before_birth(TODAY.replace(2000, 1, 1), TODAY.replace(2001, 1, 1))}: the "
        "conservative care record of that day in the episode “Left buttock pain”")
    assert error_of(answer.text, "sex").startswith(
        f"Pregnant {PREGNANT_MALE} in the history recorded on {DAY}")
    accepted = clinician.post(f"/patients/{patient}/edit", data={
        **sent, "birth_date": "1990-01-01", "sex": "female"}, follow_redirects=False)
    assert accepted.status_code == 303  # born before every record: nothing contradicts it


def test_records_from_before_these_checks_leave_every_surface_readable(
        world: World, clinician: TestClient) -> None:
    """Written past the store (as a database from before v3's checks holds them), such
    records make no valid case: the page and the note say why in clinical words, the packet
    is refused in words (it answered with the validation library's dump), the API names
    each problem (409), and nothing answers 500."""
    episode = new_episode(clinician)
    assert post(clinician, episode, "procedure", {
        "date": WEEKS_AGO_3.isoformat(), "kind": "steroid_injection"}).status_code == 303
    [procedure] = records(clinician, episode, "procedure")
    with world.sessions() as db:
        db.execute(text(
            "INSERT INTO procedure_outcomes (episode_id, procedure_id, recorded_on, recorded_by, "
            "created_at, date, relief_percent, relief_weeks) VALUES (:e, :p, :d, :u, :at, :d, "
            "80, 14)"), {"e": episode, "p": procedure["id"], "d": DAY, "u": world.ids["clinician"],
                         "at": f"{DAY} 10:00:00"})
        db.commit()
    said = f"14 weeks is longer than the 21 days since the procedure on {WEEKS_AGO_3}"
    page = clinician.get(f"/episodes/{episode}")
    assert page.status_code == 200
    assert f"<li>Procedures 1, relief lasted (weeks): {said}</li>" in page.text
    note = clinician.get(f"/episodes/{episode}/note")
    assert note.status_code == 200
    assert "cannot be assessed as of this day: Procedures 1, relief lasted" in note.text
    packet = clinician.get(f"/episodes/{episode}/prior-auth.pdf",
                           params={"option": "therapeutic_sij_injection"})
    assert packet.status_code == 422
    assert "validation error" not in packet.text and "procedures[0]" not in packet.text
    assert f"cannot be assessed as of {DAY}: Procedures 1, relief lasted (weeks): {said}" in \
        packet.text
    api = clinician.get(f"/api/v1/episodes/{episode}/assessment")
    assert api.status_code == 409
    assert api.json()["detail"]["problems"] == [f"procedures[0].relief_weeks: {said}"]

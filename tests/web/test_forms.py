"""Record forms: a valid form saves; a half-valid one saves nothing, keeps what was typed
and puts each error next to its input."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import TODAY, World

DAY = TODAY.isoformat()


@pytest.fixture(scope="module")
def episode(world: World, clinician: TestClient) -> int:
    patient = clinician.post("/api/v1/patients", json={
        "given_name": "Forma", "family_name": "Tester", "birth_date": "1975-05-05",
        "sex": "female"}).json()
    return clinician.post(f"/api/v1/patients/{patient['id']}/episodes", json={
        "complaint": "Right buttock pain", "opened_on": DAY}).json()["id"]


def timeline(client: TestClient, episode: int) -> list[dict]:
    return client.get(f"/api/v1/episodes/{episode}/records").json()


def post(client: TestClient, episode: int, kind: str, form: dict):
    return client.post(f"/episodes/{episode}/records/{kind}", data=form,
                       follow_redirects=False)


def error_of(page: str, name: str) -> str:
    """The error shown next to the input named `name`."""
    input_id = "f-" + name.replace(".", "-").replace("_", "-")
    found = re.search(rf'id="{input_id}-error"><span class="visually-hidden">Error:</span> '
                      r"([^<]*)</p>", page)
    return found.group(1) if found else ""


EXAM = {"provocation.distraction.result": "positive",
        "provocation.distraction.familiar_pain": "yes",
        "provocation.distraction.side": "right",
        "provocation.thigh_thrust.result": "positive",
        "provocation.compression.result": "negative",
        "straight_leg_raise": "negative", "neuro_deficit": "no", "recorded_on": DAY}


def test_every_form_renders_labelled_inputs(clinician: TestClient, episode: int) -> None:
    for kind in ("intake", "exam", "imaging", "care_course", "block", "procedure", "prom",
                 "medications"):
        page = clinician.get(f"/episodes/{episode}/records/{kind}").text
        ids = re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', page)
        labelled = set(re.findall(r'<label for="([^"]+)"', page))
        assert ids and set(ids) <= labelled, (kind, set(ids) - labelled)
        assert page.count("<fieldset") == page.count("<legend")


def test_a_valid_exam_is_saved(clinician: TestClient, episode: int) -> None:
    answer = post(clinician, episode, "exam", EXAM)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/episodes/{episode}#timeline"
    saved = next(e for e in timeline(clinician, episode) if e["kind"] == "exam")
    assert saved["data"]["provocation"]["distraction"] == {
        "result": "positive", "side": "right", "familiar_pain": True}
    assert saved["data"]["neuro_deficit"] is False
    assert "tenderness" not in saved["data"]  # blank stays not recorded, never "no"
    assert "Examination saved." in clinician.get(f"/episodes/{episode}").text


def test_a_half_valid_exam_saves_nothing_and_keeps_the_input(clinician: TestClient,
                                                             episode: int) -> None:
    before = timeline(clinician, episode)
    form = {**EXAM, "provocation.distraction.familiar_pain": "no", "recorded_on": "2026-13-45"}
    answer = post(clinician, episode, "exam", form)
    assert answer.status_code == 422
    page = answer.text
    assert error_of(page, "recorded_on") == "enter a real date as YYYY-MM-DD"
    assert "not positive" in error_of(page, "provocation.distraction.result")
    assert 'role="alert"' in page and "Nothing was saved" in page
    assert 'aria-invalid="true"' in page
    assert re.search(r'name="provocation.thigh_thrust.result" value="positive" checked', page)
    assert 'value="2026-13-45"' in page
    assert timeline(clinician, episode) == before


def test_a_block_is_recorded_by_its_diary(clinician: TestClient, episode: int) -> None:
    form = {"date": DAY, "side": "right", "guidance": "fluoroscopy", "contrast": "yes",
            "diary.0": "8", "diary.15": "2", "diary.30": "1", "diary.60": "1",
            "diary.360": "6", "recorded_on": DAY}
    assert post(clinician, episode, "block", form).status_code == 303
    block = next(e for e in timeline(clinician, episode) if e["kind"] == "block")
    assert [d["minutes"] for d in block["data"]["diary"]] == [0, 15, 30, 60, 360]
    assert block["summary"].endswith("pain 8 before, 1 at best after")


def test_a_block_with_a_painless_baseline_is_refused_at_the_baseline(
        clinician: TestClient, episode: int) -> None:
    form = {"date": DAY, "guidance": "fluoroscopy", "diary.0": "0", "diary.30": "0",
            "recorded_on": DAY}
    answer = post(clinician, episode, "block", form)
    assert answer.status_code == 422
    assert "baseline" in error_of(answer.text, "diary.0")


def test_questionnaires_save_together_or_not_at_all(clinician: TestClient,
                                                    episode: int) -> None:
    odi = {f"odi.{i}": str(i % 6) for i in range(1, 11)}
    before = len(timeline(clinician, episode))
    bad = post(clinician, episode, "prom", {**odi, "date": DAY, "nrs": "11",
                                            "recorded_on": DAY})
    assert bad.status_code == 422
    assert error_of(bad.text, "nrs")
    assert len(timeline(clinician, episode)) == before  # the valid ODI was not kept either
    good = post(clinician, episode, "prom", {**odi, "date": DAY, "nrs": "6",
                                             "recorded_on": DAY})
    assert good.status_code == 303
    proms = [e for e in timeline(clinician, episode) if e["kind"] == "prom"]
    assert sorted(p["data"]["instrument"] for p in proms) == ["nrs", "odi"]


def test_pain_shares_that_do_not_add_up_are_shown_on_the_pain_map(
        clinician: TestClient, episode: int) -> None:
    form = {"pain_areas.axial_low_back": "20", "pain_areas.sij_region": "50",
            "red_flags": ["__none__"], "recorded_on": DAY}
    answer = post(clinician, episode, "intake", form)
    assert answer.status_code == 422
    assert "sum to 100" in error_of(answer.text, "pain_areas.axial_low_back")


def test_none_of_these_cannot_be_ticked_with_a_finding(clinician: TestClient,
                                                       episode: int) -> None:
    answer = post(clinician, episode, "intake", {"red_flags": ["__none__", "fever"],
                                                 "recorded_on": DAY})
    assert "not both" in error_of(answer.text, "red_flags")


def test_an_empty_form_is_not_a_record(clinician: TestClient, episode: int) -> None:
    answer = post(clinician, episode, "intake", {"recorded_on": DAY})
    assert answer.status_code == 422
    assert "Nothing was entered" in answer.text


def test_red_flags_screened_as_none_are_an_empty_list(clinician: TestClient,
                                                      episode: int) -> None:
    answer = post(clinician, episode, "intake", {"pain_nrs": "7", "red_flags": ["__none__"],
                                                 "recorded_on": DAY})
    assert answer.status_code == 303
    intake = next(e for e in timeline(clinician, episode) if e["kind"] == "intake")
    assert intake["data"]["red_flags"] == []
    assert "spa_features" not in intake["data"]


def test_confirming_none_is_recorded(clinician: TestClient, episode: int) -> None:
    answer = post(clinician, episode, "imaging", {"none": "confirmed"})
    assert answer.status_code == 303
    assert any(e["kind"] == "imaging" and e["data"] == {"none": True}
               for e in timeline(clinician, episode))
    episode_page = clinician.get(answer.headers["location"]).text
    assert "Recorded: no imaging." in episode_page and "Imaging saved" not in episode_page


def test_choices_read_as_the_knowledge_base_labels_them(clinician: TestClient,
                                                        episode: int) -> None:
    page = clinician.get(f"/episodes/{episode}/records/care_course").text
    assert ">NSAIDs</option>" in page and ">SI-joint belt</option>" in page
    assert "Nsaid" not in page and "Sij belt" not in page


def test_an_unknown_record_kind_is_not_found(clinician: TestClient, episode: int) -> None:
    assert clinician.get(f"/episodes/{episode}/records/lab").status_code == 404


def test_registration_errors_are_shown_and_nothing_is_registered(
        clinician: TestClient) -> None:
    before = clinician.get("/api/v1/patients").json()["total"]
    answer = clinician.post("/patients", data={"given_name": "Nemo", "birth_date": "yesterday",
                                               "sex": "female"})
    assert answer.status_code == 422
    assert error_of(answer.text, "birth_date") == "enter a real date as YYYY-MM-DD"
    assert error_of(answer.text, "family_name") == "is required"  # every problem at once
    assert 'value="Nemo"' in answer.text
    assert clinician.get("/api/v1/patients").json()["total"] == before
    answer = clinician.post("/patients", data={"given_name": "Nemo", "family_name": "Valid",
                                               "birth_date": "1990-01-01", "sex": "male"},
                            follow_redirects=False)
    assert answer.status_code == 303
    assert "Patient registered." in clinician.get(answer.headers["location"]).text


def test_a_new_user_without_a_username_is_a_field_error(world: World) -> None:
    admin = world.signed_in("admin")
    answer = admin.post("/admin/users", data={"username": "  ", "role": "clinician",
                                              "password": "a long enough password"})
    assert answer.status_code == 422
    assert error_of(answer.text, "username") == "is required"
    created = admin.post("/admin/users", follow_redirects=False, data={
        "username": "new.colleague", "role": "staff", "password": "a long enough password"})
    assert created.status_code == 303
    page = admin.get(created.headers["location"]).text
    assert "User account created." in page


FULL_WIDTH_DAY = "\uff12\uff10\uff12\uff16-01-01"  # 2026 in full-width digits


@pytest.mark.parametrize("day", ["2026-W01-1", "2026-001-1", "+2026-01-1", FULL_WIDTH_DAY])
def test_only_calendar_dates_are_taken(clinician: TestClient, episode: int, day: str) -> None:
    # Python reads week dates (2026-W01-1) as days too; a clinician typing one made a slip
    before = timeline(clinician, episode)
    answer = post(clinician, episode, "exam", {**EXAM, "recorded_on": day})
    assert answer.status_code == 422
    assert error_of(answer.text, "recorded_on") == "enter a real date as YYYY-MM-DD"
    assert timeline(clinician, episode) == before


def test_an_outcome_names_its_procedure_by_kind_side_and_date(clinician: TestClient,
                                                               world: World) -> None:
    patient = clinician.post("/api/v1/patients", json={
        "given_name": "Otto", "family_name": "Outcome", "birth_date": "1970-01-01",
        "sex": "male"}).json()
    episode = clinician.post(f"/api/v1/patients/{patient['id']}/episodes", json={
        "complaint": "Left buttock pain", "opened_on": DAY}).json()["id"]
    empty = clinician.get(f"/episodes/{episode}/records/procedure_outcome").text
    assert "No procedure is recorded in this episode yet" in empty
    answer = post(clinician, episode, "procedure", {
        "date": DAY, "kind": "steroid_injection", "side": "left", "guidance": "fluoroscopy",
        "recorded_on": DAY})
    assert answer.status_code == 303, answer.text
    procedure = next(e for e in timeline(clinician, episode) if e["kind"] == "procedure")
    page = clinician.get(f"/episodes/{episode}/records/procedure_outcome").text
    option = re.search(rf'<option value="{procedure["id"]}" >([^<]*)</option>', page)
    assert option and option.group(1) == f"Steroid injection, left, {DAY}"

    # another episode's procedure is not on the list, and is refused if sent anyway
    foreign = post(clinician, episode, "procedure_outcome", {
        "procedure_id": str(procedure["id"] + 1000), "date": DAY, "pgic": "2",
        "recorded_on": DAY})
    assert foreign.status_code == 422
    assert error_of(foreign.text, "procedure_id") == "choose one of the listed options"

    saved = post(clinician, episode, "procedure_outcome", {
        "procedure_id": str(procedure["id"]), "date": DAY, "relief_percent": "60",
        "pgic": "2", "recorded_on": DAY})
    assert saved.status_code == 303, saved.text
    outcome = next(e for e in timeline(clinician, episode) if e["kind"] == "procedure_outcome")
    assert outcome["data"]["procedure_id"] == procedure["id"]
    assert outcome["data"]["pgic"] == 2  # a number, as the API stores it, never the text "2"
    # the timeline names the procedure followed up, not its database id
    assert outcome["summary"].startswith(f"Procedure outcome (steroid injection of {DAY}): ")
    assert "60% relief" in outcome["summary"] and "(procedure " not in outcome["summary"]

"""The episode page: the stage with its sources, the policy's checklist, alerts by severity,
signing, and what each role sees."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sijcare.knowledge import load_knowledge
from sijcare.store import Membership, SignedAssessment, load_demo
from tests.web.conftest import TODAY, World

AFTER = TODAY.isoformat()


@pytest.fixture(scope="module")
def risky(world: World, clinician: TestClient) -> int:
    """An episode with a confirmed block, an anticoagulant and a contrast allergy."""
    patient = clinician.post("/api/v1/patients", json={
        "given_name": "Rita", "family_name": "Risk", "birth_date": "1960-06-01",
        "sex": "female"}).json()
    episode = clinician.post(f"/api/v1/patients/{patient['id']}/episodes", json={
        "complaint": "Left SI-joint pain", "opened_on": "2026-01-01"}).json()["id"]
    records = [  # each recorded at the visit it describes
        ("2026-01-05", "intake", {"pain_onset": "2025-10-01", "pain_nrs": 7, "side": "left",
                                  "below_l5": True, "below_knee": False,
                                  "fortin_finger": True, "red_flags": [],
                                  "generalized_pain_disorder": False}),
        ("2026-01-05", "care_course", {"type": "physical_therapy", "start": "2025-11-01",
                                       "end": "2026-02-01"}),
        ("2026-01-05", "exam", {"provocation": {
            "distraction": "positive", "thigh_thrust": "positive", "compression": "positive",
            "sacral_thrust": "negative"}, "neuro_deficit": False}),
        ("2026-02-15", "imaging", {"date": "2026-02-15", "modality": "mri", "region": "sij",
                                   "excludes_other_causes": True}),
        ("2026-03-01", "block", {"date": "2026-03-01", "guidance": "fluoroscopy",
                                 "side": "left",
                                 "diary": [{"minutes": 0, "pain": 8}, {"minutes": 30, "pain": 1}]}),
        (AFTER, "medications", {"anticoagulant": True, "allergies": ["contrast"]}),
    ]
    for recorded_on, kind, data in records:
        answer = clinician.post(f"/api/v1/episodes/{episode}/records/{kind}",
                                json={"recorded_on": recorded_on, "data": data})
        assert answer.status_code == 201, answer.text
    return episode


def test_the_page_shows_the_stage_with_its_full_citations(clinician: TestClient,
                                                          risky: int) -> None:
    page = clinician.get(f"/episodes/{risky}").text
    stage = next(s for s in load_knowledge().pathway.stages
                 if s.id == "interventional_treatment")
    assert f'<p class="name">{stage.name}</p>' in page
    laslett = load_knowledge().sources["laslett_2005"]
    assert "Laslett 2005" in page and laslett.citation in page  # short label and full text
    assert re.search(r'<details class="sources">\s*<summary title="[^"]+">Sources: ', page)
    assert "Decision support, not a diagnosis." in page


def test_alerts_come_most_severe_first(clinician: TestClient, risky: int) -> None:
    page = clinician.get(f"/episodes/{risky}").text
    severities = re.findall(r'<li class="sev-(block|warn|info)"><strong>', page)
    assert severities, "expected safety alerts for an anticoagulated, contrast-allergic patient"
    rank = {"block": 0, "warn": 1, "info": 2}
    assert severities == sorted(severities, key=rank.get)


def test_the_policy_selector_changes_the_checklist(clinician: TestClient, risky: int) -> None:
    medicare = clinician.get(f"/episodes/{risky}", params={"policy": "medicare"}).text
    clinic = clinician.get(f"/episodes/{risky}", params={"policy": "clinic"}).text
    kb = load_knowledge()
    assert f"Eligibility under {kb.policies['medicare'].name}" in medicare
    assert f"Eligibility under {kb.policies['clinic'].name}" in clinic
    assert re.search(r'<option value="clinic" selected>', clinic)
    covered = {p: sum(o.covered for o in kb.policies[p].options) for p in kb.policies}
    for policy, page in (("medicare", medicare), ("clinic", clinic)):
        not_covered = page.count('<span class="status not_covered">')
        assert not_covered == len(kb.policies[policy].options) - covered[policy]


def test_unknown_criteria_say_what_to_document(clinician: TestClient, world: World) -> None:
    page = clinician.get(f"/episodes/{world.ids['episode']}").text
    assert "What to document next" in page
    assert '<span class="status unknown">Unknown</span>' in page


def test_an_earlier_day_shows_the_case_as_it_was(clinician: TestClient, risky: int) -> None:
    before_block = clinician.get(f"/episodes/{risky}", params={"as_of": "2026-02-20"}).text
    assert '<p class="name">Diagnostic block</p>' in before_block
    assert "Interventional treatment" not in before_block.split("Why this stage")[0]


def test_signing_stores_the_assessment_as_shown(clinician: TestClient, risky: int) -> None:
    page = clinician.get(f"/episodes/{risky}", params={"policy": "clinic"}).text
    seen = re.search(r'name="seen" value="([0-9a-f]{64})"', page).group(1)
    answer = clinician.post(f"/episodes/{risky}/sign", data={
        "policy": "clinic", "as_of": AFTER, "seen": seen}, follow_redirects=False)
    assert answer.status_code == 303
    after = clinician.get(answer.headers["location"]).text
    assert "Assessment signed." in after
    assert "Interventional treatment" in after.split('id="signatures"')[1]
    assert "None signed yet." not in after
    stale = clinician.post(f"/episodes/{risky}/sign", data={
        "policy": "medicare", "as_of": AFTER, "seen": seen})
    assert stale.status_code == 409
    assert "Nothing was signed" in stale.text


def test_staff_see_demographics_but_no_clinical_record(world: World, staff: TestClient,
                                                       risky: int) -> None:
    page = staff.get(f"/patients/{world.ids['patient']}").text
    assert "Ada" in page and "Left buttock pain" in page
    assert f'href="/episodes/{world.ids["episode"]}"' not in page
    assert staff.get(f"/episodes/{risky}").status_code == 403
    assert "Sign this assessment" not in staff.get("/patients").text


def test_synthetic_patients_are_marked(world: World, clinician: TestClient) -> None:
    with world.sessions() as db:
        demo = load_demo(db, n=1)[0]
        db.commit()
        demo_id, clinic_id = demo.id, demo.clinic_id
    with world.sessions() as db:  # the demo clinic is new: let the clinician in
        db.add(Membership(user_id=world.ids["clinician"], clinic_id=clinic_id))
        db.commit()
    world.clock.now += world.app.state.settings.actor_cache_seconds + 1
    listing = clinician.get("/patients", params={"q": "Demo"}).text
    assert '<span class="tag synthetic">Synthetic</span>' in listing
    assert "Synthetic demo patient: not a real person." in clinician.get(
        f"/patients/{demo_id}").text


def test_a_signature_whose_stored_copy_was_changed_is_marked_altered(
        world: World, clinician: TestClient, risky: int) -> None:
    page = clinician.get(f"/episodes/{risky}", params={"as_of": "2026-03-02"}).text
    seen = re.search(r'name="seen" value="([0-9a-f]{64})"', page).group(1)
    assert clinician.post(f"/episodes/{risky}/sign", data={
        "policy": "medicare", "as_of": "2026-03-02", "seen": seen}).status_code == 200
    assert "Altered" not in clinician.get(f"/episodes/{risky}").text
    with world.sessions() as db:
        [signed] = db.scalars(select(SignedAssessment).where(
            SignedAssessment.episode_id == risky,
            SignedAssessment.as_of == dt.date(2026, 3, 2))).all()
        db.execute(update(SignedAssessment).where(SignedAssessment.id == signed.id)
                   .values(assessment={**signed.assessment, "stage": "maintenance"}))
        db.commit()
    signatures = clinician.get(f"/episodes/{risky}").text.split('id="signatures"')[1]
    assert signatures.count("Altered: this stored assessment no longer matches its seal") == 1


"""Signed notes as a clinic sends them: the letterhead, the signer's name and credentials,
the findings and scores, and addenda signed under an assessment that never changes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, SignedAssessment, seal_intact
from sijcare.store.models import AssessmentAddendum
from sijcare.store.users import set_profile
from tests.web.conftest import TODAY, World, build_world
from tests.web.test_safety_pages import pdf_text

DAY = TODAY.isoformat()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    built = build_world(tmp_path_factory.mktemp("notes"))
    settings = built.app.state.settings
    built.app.state.settings = replace(settings, clinic_address="1 Sacrum Street, Iliac Town")
    with built.sessions() as db:
        set_profile(db, built.ids["clinician"], "Dr Ana Ruiz", "MD, FIPP", built.ids["admin"])
        db.commit()
    yield built
    built.engine.dispose()


def test_the_visit_note_is_on_the_letterhead_with_findings_and_the_signer(
        clinician: TestClient, world: World) -> None:
    episode = world.ids["episode"]
    for kind, data in (("exam", {"provocation": {"distraction": "positive",
                                                  "thigh_thrust": "positive",
                                                  "compression": "negative"}}),
                       ("prom", {"date": DAY, "instrument": "nrs", "value": 6})):
        assert clinician.post(f"/api/v1/episodes/{episode}/records/{kind}", json={
            "recorded_on": DAY, "data": data}).status_code == 201
    note = clinician.get(f"/episodes/{episode}/note", params={"as_of": DAY}).text
    head = note.split('class="letterhead"')[1].split("</header>")[0]
    assert "North Clinic" in head and "1 Sacrum Street, Iliac Town" in head
    assert "Phone 555 0100" in head
    assert ("Provocation tests: 2 positive of 3 performed, 5 not performed; positive: "
            "distraction, thigh thrust; negative: compression.") in note
    assert "Pain NRS 6 of 10 on " + DAY in note
    assert "Pain onset:</strong> not recorded" in note


def test_an_addendum_is_signed_under_the_assessment_which_stays_as_signed(
        clinician: TestClient, world: World, tmp_path_factory: pytest.TempPathFactory) -> None:
    episode, signed_id = world.ids["episode"], world.ids["signed"]
    path = f"/episodes/{episode}/signed/{signed_id}"
    with world.sessions() as db:
        before = db.get(SignedAssessment, signed_id).sha256
    empty = clinician.post(f"{path}/addenda", data={"text": "   "})
    assert empty.status_code == 422 and "write the addendum" in empty.text
    added = clinician.post(f"{path}/addenda", data={
        "text": "Patient reports the pain eased after physiotherapy."}, follow_redirects=False)
    assert added.status_code == 303
    page = clinician.get(path).text
    assert "Addendum 1, signed by Dr Ana Ruiz, MD, FIPP" in page
    assert "eased after physiotherapy" in page
    assert "As signed</strong> by Dr Ana Ruiz, MD, FIPP" in page
    with world.sessions() as db:
        signed = db.get(SignedAssessment, signed_id)
        assert signed.sha256 == before and seal_intact(signed)
        addendum = db.scalars(select(AssessmentAddendum)).one()
        events = db.scalars(select(AuditEvent).where(
            AuditEvent.action == "sign_addendum")).all()
    assert events[-1].detail["addendum_id"] == addendum.id
    note = clinician.get(f"/episodes/{episode}/note",
                         params={"as_of": signed.as_of.isoformat(),
                                 "policy": signed.policy}).text
    assert "Signed by Dr Ana Ruiz, MD, FIPP" in note and "Addendum 1" in note
    pdf = clinician.get(f"{path}/assessment.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(pdf.content, tmp_path_factory).split())
    assert "North Clinic" in text and "Dr Ana Ruiz, MD, FIPP" in text
    assert "Addendum 1" in text and "physiotherapy" in text


def test_only_signers_add_addenda(clients: dict[str, TestClient], world: World) -> None:
    path = f"/episodes/{world.ids['episode']}/signed/{world.ids['signed']}/addenda"
    for outsider in ("staff", "researcher", "south_clinician"):
        assert clients[outsider].post(path, data={"text": "x"}).status_code in (403, 404)

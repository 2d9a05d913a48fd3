"""The registry page: who may see it, and that it shows aggregates only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from sijcare.analytics.cohort import store_cohort
from sijcare.store import verify_chain
from sijcare.store.models import AuditEvent, Clinic, Membership, Patient
from sijcare.store.synthetic import SYNTHETIC_CLINIC
from tests.web.conftest import World


@pytest.fixture(scope="module")
def registry_world(world: World) -> World:
    """North's clinician also works in the synthetic clinic, which holds a small cohort."""
    with world.sessions() as db:
        store_cohort(db, 120, seed=3)
        clinic = db.scalar(select(Clinic).where(Clinic.name == SYNTHETIC_CLINIC))
        db.add(Membership(user_id=world.ids["clinician"], clinic_id=clinic.id))
        db.commit()
    return world


@pytest.mark.parametrize("user", ["staff", "admin"])
def test_staff_and_admins_may_not(registry_world: World, clients, user: str) -> None:
    assert clients[user].get("/registry").status_code == 403
    assert clients[user].get("/registry/report.pdf").status_code == 403


def test_signed_out_goes_to_sign_in(registry_world: World) -> None:
    answer = registry_world.client().get("/registry", follow_redirects=False)
    assert answer.status_code in (302, 303)
    assert "/login" in answer.headers["location"]


def test_researchers_see_aggregates_and_no_patient(registry_world: World, clients) -> None:
    page = clients["researcher"].get("/registry").text
    assert "Kaplan-Meier" in page and "Beside the trials" in page and "Cohen 2008" in page
    assert "data:image/svg+xml;base64," in page
    assert "counts under 5 are hidden" in page
    with registry_world.sessions() as db:
        names = db.execute(select(Patient.family_name, Patient.external_id)).all()
    assert not any(name in page or (ext and ext in page) for name, ext in names)
    assert not re.search(r'href="/(patients|episodes)/\d+', page)


def test_clinicians_see_their_clinics_only(registry_world: World, clients) -> None:
    mine = clients["clinician"].get("/registry").text
    theirs = clients["south_clinician"].get("/registry").text
    assert "Durability of relief" in mine
    assert "No procedures with follow-up match yet." in theirs
    assert "Cohen 2008" in theirs  # the published figures still show
    hoffman = theirs.split("Hoffman 2018")[1].split("</table>")[0]
    assert "Advocacy: written by people who sell this treatment" in hoffman


def test_filters_and_bad_filters(registry_world: World, clients) -> None:
    client = clients["clinician"]
    left = client.get("/registry", params={"side": "left", "from": "2020-01-01"})
    assert left.status_code == 200
    assert 'value="left" selected>Left<' in left.text  # the side by its label
    assert client.get("/registry", params={"side": "middle"}).status_code == 422
    assert client.get("/registry", params={"from": "yesterday"}).status_code == 422


def test_report_is_a_pdf_and_reads_are_audited(registry_world: World, clients) -> None:
    answer = clients["clinician"].get("/registry/report.pdf")
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    with registry_world.sessions() as db:
        routes = db.scalars(select(AuditEvent.detail).where(
            AuditEvent.object_type == "registry")).all()
    assert {"registry.show", "registry.report"} <= {d["route"] for d in routes}


def test_episode_reports_for_the_patients_clinicians(registry_world: World, clients) -> None:
    episode = registry_world.ids["episode"]
    page = clients["clinician"].get(f"/episodes/{episode}").text
    assert f'href="/episodes/{episode}/report.pdf"' in page
    assert "Prior-authorisation packet (PDF)" in page
    report = clients["clinician"].get(f"/episodes/{episode}/report.pdf")
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    packet = clients["clinician"].get(f"/episodes/{episode}/prior-auth.pdf",
                                      params={"option": "sij_rfa", "policy": "clinic"})
    assert packet.status_code == 200 and packet.content.startswith(b"%PDF")
    assert clients["clinician"].get(f"/episodes/{episode}/prior-auth.pdf",
                                    params={"option": "acupuncture"}).status_code == 422
    for user, status in (("staff", 403), ("researcher", 403), ("south_clinician", 404)):
        assert clients[user].get(f"/episodes/{episode}/report.pdf").status_code == status
    with registry_world.sessions() as db:
        reports = [(d or {}).get("report") for d in db.scalars(select(AuditEvent.detail).where(
            AuditEvent.object_type == "episode"))]
    assert {"episode", "prior_auth"} <= set(reports)


def test_the_stage_filter_reads_as_words_and_narrows(registry_world: World, clients) -> None:
    client = clients["clinician"]
    everyone = client.get("/registry").text
    assert '<option value="diagnostic_block">Diagnostic block</option>' in everyone
    assert ">diagnostic_block<" not in everyone and ">interventional_treatment<" not in everyone
    assert "Showing: Procedures of every date." in everyone
    treated = client.get("/registry", params={"stage": "interventional_treatment",
                                              "side": "left"})
    assert treated.status_code == 200
    assert 'value="interventional_treatment" selected' in treated.text
    assert ("Showing: Procedures of every date, left side, at the stage interventional "
            "treatment when treated.") in treated.text
    assert "Durability of relief" in treated.text and treated.text != everyone
    none = client.get("/registry", params={"stage": "surgical_evaluation"}).text
    assert "No procedures with follow-up match yet." in none  # no drawn patient got there
    assert client.get("/registry", params={"stage": "fusion"}).status_code == 422
    report = client.get("/registry/report.pdf", params={"stage": "diagnostic_block"})
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    assert client.get("/registry/report.pdf", params={"stage": "x"}).status_code == 422


def test_the_forms_any_and_empty_dates_mean_no_filter(registry_world: World, clients) -> None:
    client = clients["clinician"]
    submitted = client.get("/registry", params={"from": "", "to": "", "clinician": "",
                                                "side": "", "stage": ""})
    assert submitted.status_code == 200
    assert "Showing: Procedures of every date." in submitted.text
    for bad in ({"clinician": "0"}, {"clinician": "x"}, {"side": "middle"}, {"to": "May"}):
        assert client.get("/registry", params=bad).status_code == 422, bad


def test_views_and_downloads_are_audited_with_their_filters(registry_world: World,
                                                           clients) -> None:
    """Filters are how a reader narrows a cohort, so the entry keeps them; files that leave
    (registry PDF, episode report, prior-authorisation packet) are exports."""
    researcher, clinician = clients["researcher"], clients["clinician"]
    episode = registry_world.ids["episode"]
    steps = [
        (researcher, "/registry", {"side": "left", "stage": "diagnostic_block"}),
        (researcher, "/registry/report.pdf", {"from": "2025-01-01", "side": "right"}),
        (clinician, f"/episodes/{episode}/report.pdf", {}),
        (clinician, f"/episodes/{episode}/prior-auth.pdf", {"option": "sij_rfa"}),
    ]
    entries = []
    for client, path, params in steps:
        assert client.get(path, params=params).status_code == 200
        with registry_world.sessions() as db:
            entries.append(db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())
                                      .limit(1)).one())
    page, pdf, report, packet = entries
    assert (page.action, page.object_type, page.actor_id) == (
        "read", "registry", registry_world.ids["researcher"])
    assert page.detail["filters"] == {"side": "left", "stage": "diagnostic_block"}
    assert page.detail["suppressed"] is True
    assert (pdf.action, pdf.object_type, pdf.detail["via"]) == ("export", "registry",
                                                               "registry.report")
    assert pdf.detail["filters"] == {"from": "2025-01-01", "side": "right"}
    for entry, kind in ((report, "episode"), (packet, "prior_auth")):
        assert (entry.action, entry.object_type, entry.object_id) == (
            "export", "episode", str(episode))
        assert entry.detail["report"] == kind
    with registry_world.sessions() as db:
        assert verify_chain(db).ok

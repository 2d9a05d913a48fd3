"""Questionnaires by link: signed, single-use, expiring; a page that shows a first name only;
answers become patient-reported PROMs on the timeline; refused links show no data."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, list_timeline
from sijcare.store.models import FollowUpPoint, PromRecord, QuestionnaireLink, utcnow
from sijcare.store.questionnaires import LinkRefused, issue_link, open_link
from tests.web.conftest import World, build_world
from tests.web.test_worklist import injection, points

LINK = re.compile(r'value="http://127\.0\.0\.1:8000(/q/[^"]+)"')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    built = build_world(tmp_path_factory.mktemp("questionnaire"))
    yield built
    built.engine.dispose()


def shown_link(clinician: TestClient, episode_id: int, point_id: int) -> str:
    page = clinician.post(f"/episodes/{episode_id}/follow-up/{point_id}/link")
    assert page.status_code == 200, page.text
    match = LINK.search(page.text)
    assert match, page.text
    return match.group(1)


def due_2w(world: World) -> tuple[int, FollowUpPoint]:
    episode_id, _ = injection(world, days_ago=12)
    return episode_id, points(world, episode_id)["2w"]


def test_patient_answers_once_and_the_answers_land_on_the_episode(
        world: World, clinician: TestClient) -> None:
    episode_id, point = due_2w(world)
    path = shown_link(clinician, episode_id, point.id)
    patient = world.client()
    page = patient.get(path)
    assert page.status_code == 200
    assert "Hello Bea" in page.text and "Followup" not in page.text  # first name only
    assert 'name="nrs"' in page.text and 'name="pgic"' in page.text
    assert 'name="odi.1"' not in page.text  # the 2w point asks NRS and PGIC only
    # the patient site's frame, not the clinicians': no decision-support banner, no staff menu
    assert 'class="public"' in page.text and "Decision support, not a diagnosis" not in page.text
    assert "does not diagnose you" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = patient.post(path, data={"csrf_token": token, "nrs": "3", "pgic": "2",
                                    "comment": "Much better <b>walking</b>"})
    assert done.status_code == 200 and "Thank you" in done.text
    with world.sessions() as db:
        proms = db.scalars(select(PromRecord).where(PromRecord.episode_id == episode_id)).all()
        assert {(p.instrument, p.value, p.patient_reported, p.recorded_by) for p in proms} == {
            ("nrs", 3, True, None), ("pgic", 2, True, None)}
        summaries = [e.summary for e in list_timeline(db, episode_id) if e.kind == "prom"]
        assert all("patient-reported" in s for s in summaries) and len(summaries) == 2
        link = db.scalars(select(QuestionnaireLink).where(
            QuestionnaireLink.episode_id == episode_id)).one()
        assert link.used_at is not None and link.comment == "Much better <b>walking</b>"
        audited = db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "prom", AuditEvent.actor_id.is_(None))).all()
        assert {e.object_id for e in audited} >= {str(p.id) for p in proms}
    assert points(world, episode_id)["2w"].done
    again = patient.get(path)
    assert again.status_code == 410 and "already been answered" in again.text
    assert "Bea" not in again.text
    episode = clinician.get(f"/episodes/{episode_id}")
    assert 'data-point="2w" data-status="done"' in episode.text


def test_missing_answers_save_nothing_and_keep_the_link(world: World,
                                                        clinician: TestClient) -> None:
    episode_id, point = due_2w(world)
    path = shown_link(clinician, episode_id, point.id)
    patient = world.client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      patient.get(path).text).group(1)
    answer = patient.post(path, data={"csrf_token": token, "nrs": "4"})
    assert answer.status_code == 422 and "please answer this question" in answer.text
    assert patient.get(path).status_code == 200
    with world.sessions() as db:
        assert db.scalars(select(PromRecord).where(
            PromRecord.episode_id == episode_id)).all() == []


def test_tampered_replaced_and_expired_links_are_refused_without_data(
        world: World, clinician: TestClient) -> None:
    episode_id, point = due_2w(world)
    first = shown_link(clinician, episode_id, point.id)
    second = shown_link(clinician, episode_id, point.id)
    patient = world.client()
    replaced = patient.get(first)
    assert replaced.status_code == 410 and "newer link" in replaced.text
    tampered = patient.get(second[:-2] + ("AA" if not second.endswith("AA") else "BB"))
    assert tampered.status_code == 404 and "not valid" in tampered.text
    assert "Bea" not in tampered.text + replaced.text
    secret = world.app.state.settings.secret_key
    with world.sessions() as db:
        _, token = issue_link(db, point.id, world.ids["clinician"], secret, days=14)
        db.commit()
        later = utcnow() + dt.timedelta(days=14, seconds=1)
        with pytest.raises(LinkRefused) as refused:
            open_link(db, token, secret, later)
        assert refused.value.reason == "expired"
        assert open_link(db, token, secret).first_name == "Bea"


def test_links_only_for_own_clinic_and_clinicians(world: World,
                                                  clients: dict[str, TestClient]) -> None:
    episode_id, point = due_2w(world)
    url = f"/episodes/{episode_id}/follow-up/{point.id}/link"
    assert clients["south_clinician"].post(url).status_code == 404
    assert clients["staff"].post(url).status_code == 403


def test_odi_points_show_section_titles_or_the_clinic_licensed_text(
        world: World, clinician: TestClient, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    episode_id, _ = injection(world, days_ago=0)
    baseline = points(world, episode_id)["baseline"]
    path = shown_link(clinician, episode_id, baseline.id)
    page = world.client().get(path)
    assert 'name="odi.10"' in page.text and "Travelling" in page.text
    licensed = {"sections": [{"title": f"Section {i}",
                              "choices": [f"Licensed statement {i}.{c}" for c in range(6)]}
                             for i in range(1, 11)]}
    text_file = tmp_path / "odi.json"
    text_file.write_text(json.dumps(licensed), encoding="utf-8")
    monkeypatch.setenv("SIJCARE_ODI_TEXT_FILE", str(text_file))
    assert "Licensed statement 10.5" in world.client().get(path).text


def test_requests_are_rate_limited_per_address(tmp_path: Path) -> None:
    built = build_world(tmp_path)
    try:
        client = built.client()
        answers = [client.get("/q/nothing.AAAA").status_code for _ in range(31)]
        assert answers[:30] == [404] * 30 and answers[30] == 429
        built.clock.now += 11 * 60
        assert client.get("/q/nothing.AAAA").status_code == 404
    finally:
        built.engine.dispose()

"""The clinic worklist: open follow-up points across the clinic, filters, access, and the
schedule kept current as records change; response rates on a page and in the API."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent, add_record, create_episode, create_patient, void_record
from sijcare.store.models import FollowUpPoint
from tests.web.conftest import TODAY, World

_numbers = itertools.count(1)


def injection(world: World, days_ago: int, kind: str = "steroid_injection",
              clinic: str = "north", clinician: str = "clinician") -> tuple[int, int]:
    """A new patient whose procedure was `days_ago` days ago (recorded today)."""
    number = next(_numbers)
    with world.sessions() as db:
        patient = create_patient(db, world.ids[clinic], {
            "given_name": "Bea", "family_name": f"Followup{number:03d}",
            "birth_date": "1968-04-05", "sex": "female"}, world.ids[clinician])
        episode = create_episode(db, patient.id, {
            "complaint": "Left SI-joint pain",
            "opened_on": (TODAY - dt.timedelta(days=days_ago + 60)).isoformat()},
            world.ids[clinician])
        procedure = add_record(db, episode.id, "procedure", {
            "date": (TODAY - dt.timedelta(days=days_ago)).isoformat(), "kind": kind,
            "side": "left", "guidance": "fluoroscopy"}, world.ids[clinician], TODAY)
        db.commit()
        return episode.id, procedure.id


def points(world: World, episode_id: int) -> dict[str, FollowUpPoint]:
    with world.sessions() as db:
        return {p.point: p for p in db.scalars(
            select(FollowUpPoint).where(FollowUpPoint.episode_id == episode_id))}


ROW = re.compile(r'<tr data-point="([^"]+)" data-status="([^"]+)">\s*<td><a '
                 r'href="/episodes/(\d+)#follow-up"')


def rows(page: str) -> list[tuple[str, str, str]]:
    """(episode id, point, status) of each worklist row."""
    return [(episode, point, status) for point, status, episode in ROW.findall(page)]


def test_the_injection_2w_point_is_due_and_its_6w_point_upcoming(
        world: World, clinician: TestClient) -> None:
    episode_id, _ = injection(world, days_ago=12)
    stored = points(world, episode_id)
    assert stored["2w"].due == TODAY + dt.timedelta(days=2)
    assert stored["2w"].clinician_id == world.ids["clinician"]
    page = clinician.get("/worklist")
    assert page.status_code == 200
    mine = {(point, status) for episode, point, status in rows(page.text)
            if episode == str(episode_id)}
    assert mine == {("2w", "due"), ("6w", "upcoming"), ("baseline", "missed")}
    assert f"/episodes/{episode_id}/follow-up/{stored['2w'].id}/send" in page.text


def test_filters_by_point_procedure_kind_clinician_and_status(
        world: World, clinician: TestClient) -> None:
    steroid, _ = injection(world, days_ago=12)
    prp, _ = injection(world, days_ago=40, kind="prp")

    def listed(**query: str) -> set[tuple[str, str, str]]:
        return {r for r in rows(clinician.get("/worklist", params=query).text)
                if r[0] in (str(steroid), str(prp))}

    assert {p for _, p, _ in listed(point="6w")} == {"6w"}
    assert {e for e, _, _ in listed(kind="prp")} == {str(prp)}
    assert listed(status="due") == {(str(steroid), "2w", "due"), (str(prp), "6w", "due")}
    assert listed(clinician=str(world.ids["clinician"])) == listed()
    assert listed(clinician=str(world.ids["staff"])) == set()


def test_other_clinics_and_non_clinical_roles_see_nothing(
        world: World, clients: dict[str, TestClient]) -> None:
    episode_id, _ = injection(world, days_ago=12)
    south = clients["south_clinician"].get("/worklist")
    assert south.status_code == 200 and f"/episodes/{episode_id}#" not in south.text
    for role in ("staff", "researcher", "admin"):
        assert clients[role].get("/worklist").status_code == 403


def test_reading_the_worklist_is_audited(world: World, clinician: TestClient) -> None:
    clinician.get("/worklist", params={"point": "2w"})
    with world.sessions() as db:
        last = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "worklist")
                          .order_by(AuditEvent.seq.desc())).first()
    assert last is not None and last.actor_id == world.ids["clinician"]
    assert last.detail == {"route": "worklist.view", "point": "2w"}


def test_schedule_follows_the_records(world: World, clinician: TestClient) -> None:
    """Answering the 2w point's questionnaires in its window makes it done (and leaves the
    worklist); marking the procedure entered in error removes its points."""
    episode_id, procedure_id = injection(world, days_ago=12)
    first_id = points(world, episode_id)["2w"].id
    with world.sessions() as db:
        for instrument, value in (("nrs", 3), ("pgic", 2)):
            add_record(db, episode_id, "prom", {"date": TODAY.isoformat(),
                                                "instrument": instrument, "value": value},
                       world.ids["clinician"], TODAY)
        db.commit()
    after = points(world, episode_id)
    assert after["2w"].done and after["2w"].id == first_id and not after["6w"].done
    assert (str(episode_id), "2w", "due") not in rows(clinician.get("/worklist").text)
    with world.sessions() as db:
        void_record(db, episode_id, "procedure", procedure_id, world.ids["clinician"],
                    "wrong patient", TODAY)
        db.commit()
    assert points(world, episode_id) == {}


def test_response_rates_page_and_api(world: World, clinician: TestClient) -> None:
    injection(world, days_ago=12)
    api = clinician.get("/api/v1/follow-up/response-rates")
    assert api.status_code == 200
    north = {r["point"]: r for r in api.json() if r["clinic_id"] == world.ids["north"]}
    baseline = north["baseline"]
    assert baseline["due"] >= 1 and baseline["missed"] == baseline["due"]
    assert baseline["share_answered"] == 0
    two = north["2w"]
    assert two["open"] == two["due"] - two["answered"] - two["missed"] >= 1
    page = clinician.get("/worklist/response-rates")
    assert page.status_code == 200 and "North Clinic" in page.text
    assert clinician.get("/api/v1/follow-up/response-rates",
                         params={"as_of": "2026-13-01"}).status_code == 422


def test_points_and_treatments_read_as_words(world: World, clinician: TestClient) -> None:
    """A row names its point and treatment by label (`2 weeks`, `PRP ...`), never by code."""
    episode_id, _ = injection(world, days_ago=12, kind="prp")
    page = clinician.get("/worklist").text
    row = next(r for r in page.split('<tr data-point="2w"')[1:]
               if f'href="/episodes/{episode_id}#follow-up"' in r.split("</tr>")[0])
    row = row.split("</tr>")[0]
    assert "<td>2 weeks</td>" in row
    assert "PRP (platelet-rich plasma) injection of" in row
    assert not re.search(r">\s*(2w|6w|prp)\s*<", row)
    filters = page[:page.index("<table")]
    assert '<option value="3m">3 months</option>' in filters
    assert '<option value="rfa_cooled">Cooled radiofrequency ablation</option>' in filters

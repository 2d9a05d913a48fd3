"""The episode page's course chart: its own request, for the same readers as the page, drawn
as of the page's day; the page itself carries the text alternative and the data table."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import AuditEvent
from tests.web.conftest import TODAY, World

DAY = TODAY.isoformat()


def scored_episode(client: TestClient, scores: list[tuple[str, int]]) -> int:
    patient = client.post("/api/v1/patients", json={
        "given_name": "Cora", "family_name": "Chart", "birth_date": "1968-04-04",
        "sex": "female"}).json()
    episode = client.post(f"/api/v1/patients/{patient['id']}/episodes", json={
        "complaint": "Right buttock pain", "opened_on": scores[0][0] if scores else DAY}
    ).json()["id"]
    for day, value in scores:
        answer = client.post(f"/api/v1/episodes/{episode}/records/prom", json={
            "recorded_on": day, "data": {"date": day, "instrument": "nrs", "value": value}})
        assert answer.status_code == 201, answer.text
    return episode


def test_the_page_links_its_chart_and_the_chart_draws_the_scores(
        clinician: TestClient, world: World) -> None:
    episode = scored_episode(clinician, [("2026-09-01", 8), ("2026-10-01", 5)])
    page = clinician.get(f"/episodes/{episode}").text
    image = re.search(r'<img src="([^"]+course-chart\.svg[^"]*)" alt="([^"]+)" width="720" '
                      r'height="(\d+)">', page)
    assert image, "the chart is an image of its own request"
    assert "data:image" not in page  # the page does not carry the drawing
    assert "Pain NRS from 8 of 10 on 2026-09-01 to 5 of 10 on 2026-10-01" in image.group(2)
    assert f"as_of={DAY}" in image.group(1)
    answer = clinician.get(image.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    # patient data: kept by this browser only, and asked for again each time (a 304 or new)
    assert answer.headers["cache-control"] == "private, no-cache"
    svg = ElementTree.fromstring(answer.content)
    assert svg.tag.endswith("svg")
    assert round(float(svg.get("height").removesuffix("pt")) * 96 / 72) == int(image.group(3))
    words = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    assert "Pain NRS" in words and "ODI" not in words  # only what was recorded is drawn
    with world.sessions() as db:
        events = db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "episode", AuditEvent.object_id == str(episode))).all()
    assert any(e.action == "read" and e.detail["route"] == "episodes.course_chart"
               and e.detail["as_of"] == DAY for e in events), "the chart's read is audited"


def test_the_chart_is_drawn_as_of_the_day_asked(clinician: TestClient) -> None:
    episode = scored_episode(clinician, [("2026-09-01", 8), ("2026-10-01", 5)])
    then = clinician.get(f"/episodes/{episode}/course-chart.svg",
                         params={"as_of": "2026-09-15"}).content
    now = clinician.get(f"/episodes/{episode}/course-chart.svg").content
    assert then != now  # the October score is not known on 15 September
    page = clinician.get(f"/episodes/{episode}", params={"as_of": "2026-09-15"}).text
    assert "course-chart.svg?as_of=2026-09-15" in page
    assert "(1 entries)" in page  # the text alternative is as of that day too


def test_only_the_pages_readers_see_the_chart(clients: dict[str, TestClient],
                                              clinician: TestClient) -> None:
    episode = scored_episode(clinician, [("2026-10-01", 6)])
    path = f"/episodes/{episode}/course-chart.svg"
    assert clients["clinician"].get(path).status_code == 200
    for outsider in ("south_clinician", "researcher", "admin"):
        answer = clients[outsider].get(path)
        assert answer.status_code in (403, 404), (outsider, answer.status_code)
        assert b"<svg" not in answer.content
    assert TestClient(clinician.app).get(path, follow_redirects=False).status_code in (
        302, 303, 401)


def test_no_scores_no_chart(clinician: TestClient) -> None:
    episode = scored_episode(clinician, [])
    assert "course-chart.svg" not in clinician.get(f"/episodes/{episode}").text
    answer = clinician.get(f"/episodes/{episode}/course-chart.svg")
    assert (answer.status_code, answer.content) == (204, b"")


def test_a_repeat_view_is_a_304_until_a_record_changes_the_chart(
        clinician: TestClient, world: World) -> None:
    episode = scored_episode(clinician, [("2026-09-01", 8), ("2026-10-01", 5)])
    path = f"/episodes/{episode}/course-chart.svg"
    first = clinician.get(path)
    tag = first.headers["etag"]
    again = clinician.get(path, headers={"if-none-match": tag})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == tag
    assert clinician.get(path, headers={"if-none-match": '"other"'}).content == first.content
    assert clinician.get(path, params={"as_of": "2026-09-15"}).headers["etag"] != tag
    assert clinician.get(path, params={"width": "narrow"}).headers["etag"] != tag
    clinician.post(f"/api/v1/episodes/{episode}/records/prom", json={
        "recorded_on": DAY, "data": {"date": DAY, "instrument": "nrs", "value": 3}})
    changed = clinician.get(path, headers={"if-none-match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert changed.content != first.content
    with world.sessions() as db:
        reads = db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "episode", AuditEvent.object_id == str(episode),
            AuditEvent.action == "read")).all()
    assert sum(e.detail["route"] == "episodes.course_chart" for e in reads) >= 6  # 304s too


def _texts(svg: bytes) -> list[ElementTree.Element]:
    return [t for t in ElementTree.fromstring(svg).iter() if t.tag.endswith("text")]


def test_the_legend_sits_below_the_curves_and_a_phone_gets_a_narrow_chart(
        clinician: TestClient) -> None:
    episode = scored_episode(clinician, [("2026-08-01", 8), ("2026-09-01", 6),
                                         ("2026-10-01", 4)])
    wide = clinician.get(f"/episodes/{episode}/course-chart.svg").content
    root = ElementTree.fromstring(wide)
    words = " ".join(t.text or "" for t in _texts(wide))
    assert "change smaller than the MCID" in words
    # the legend is the figure's, not an axes' (matplotlib names the groups it draws)
    figure = next(g for g in root.iter() if g.get("id") == "figure_1")
    assert any(g.get("id", "").startswith("legend") for g in figure)
    for axes in (g for g in figure if g.get("id", "").startswith("axes")):
        assert not any(g.get("id", "").startswith("legend") for g in axes.iter())
    narrow = clinician.get(f"/episodes/{episode}/course-chart.svg",
                           params={"width": "narrow"}).content
    assert float(ElementTree.fromstring(narrow).get("width").removesuffix("pt")) * 96 / 72 \
        <= 390
    page = clinician.get(f"/episodes/{episode}").text
    assert 'media="(max-width: 600px)"' in page and "width=narrow" in page
    assert clinician.get(f"/episodes/{episode}/course-chart.svg",
                         params={"width": "huge"}).status_code in (400, 422)

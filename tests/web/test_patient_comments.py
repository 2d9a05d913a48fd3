"""The patient's words reach the clinician: a comment written with a questionnaire by link is
on the episode's timeline, the worklist, the episode report (web PDF and `sijcare report
episode`) and the API's timeline, escaped and marked patient-reported, and flagged with the
listed word it contains."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sijcare.cli import app
from sijcare.patient_words import flagged_words
from tests.web.conftest import World
from tests.web.test_questionnaire import due_2w, shown_link
from tests.web.test_safety_pages import pdf_text

URGENT = "URGENT new numbness in my <b>legs</b> since Tuesday"
CALM = "Walking to the shops again & sleeping better"


def write_by_link(world: World, clinician: TestClient, comment: str) -> int:
    """A patient answers their 2-week questionnaire by link, with a comment; the episode."""
    episode_id, point = due_2w(world)
    path = shown_link(clinician, episode_id, point.id)
    patient = world.client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', patient.get(path).text).group(1)
    done = patient.post(path, data={"csrf_token": token, "nrs": "6", "pgic": "5",
                                    "comment": comment})
    assert done.status_code == 200, done.text
    return episode_id


@pytest.fixture(scope="module")
def written(world: World, clinician: TestClient) -> dict[str, int]:
    return {"urgent": write_by_link(world, clinician, URGENT),
            "calm": write_by_link(world, clinician, CALM)}


def timeline_item(page: str, text: str) -> str:
    """The timeline entry (`<li>`) that holds `text` as the page shows it (escaped)."""
    shown = html.escape(text, quote=False)
    assert shown in page, "the comment is not on the page"
    return page[page.rindex("<li", 0, page.index(shown)):page.index("</li>",
                                                                     page.index(shown))]


def test_the_listed_words_match_whole_words_in_any_case() -> None:
    assert flagged_words(URGENT) == ("numbness",)
    assert flagged_words("I FELL and my leg is Weak; no fever") == ("weak", "fever", "fell")
    assert flagged_words("lost   weight, benumbed, a waterfall, feverishly") == ("lost weight",)
    assert flagged_words(CALM) == () and flagged_words(None) == ()


def test_the_episode_timeline_shows_it_escaped_marked_and_flagged(
        written: dict[str, int], clinician: TestClient) -> None:
    page = clinician.get(f"/episodes/{written['urgent']}").text
    assert "<b>legs</b>" not in page  # the patient's markup is text, never markup
    entry = timeline_item(page, URGENT)
    assert "patient-reported" in entry and "Written by the patient" in entry
    assert "Read today: the patient mentions numbness" in entry
    calm = timeline_item(clinician.get(f"/episodes/{written['calm']}").text, CALM)
    assert "patient-reported" in calm and "Read today" not in calm
    assert "Entered by the patient, by questionnaire link" in page  # the answers' entries
    assert "unknown user" not in page


def test_the_worklist_lists_it_flagged_first_for_its_clinic_only(
        written: dict[str, int], clients: dict[str, TestClient]) -> None:
    page = clients["clinician"].get("/worklist").text
    start = page.index('id="patient-comments"')
    section = page[start:page.index("</section>", start)]
    assert html.escape(URGENT, quote=False) in section and html.escape(CALM) in section
    assert section.index("numbness") < section.index(html.escape(CALM))  # flagged first
    assert "Mentions numbness" in section
    assert f'href="/episodes/{written["urgent"]}#timeline"' in section
    theirs = clients["south_clinician"].get("/worklist").text
    assert 'id="patient-comments"' in theirs and "numbness" not in theirs


def test_the_api_timeline_carries_it_with_its_flag(written: dict[str, int],
                                                   clinician: TestClient) -> None:
    entries = clinician.get(f"/api/v1/episodes/{written['urgent']}/records").json()
    (comment,) = [e for e in entries if e["kind"] == "patient_comment"]
    assert comment["data"] == {"text": URGENT, "point": "2w", "flags": ["numbness"]}
    assert "patient-reported" in comment["summary"] and "numbness" in comment["summary"]
    assert comment["recorded_by"] is None


def test_the_episode_report_pdf_shows_it_flagged(
        written: dict[str, int], clinician: TestClient,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    answer = clinician.get(f"/episodes/{written['urgent']}/report.pdf")
    assert answer.status_code == 200
    text = " ".join(pdf_text(answer.content, tmp_path_factory).split())
    assert "Patients' comments" in text and "Mentions numbness" in text
    assert "URGENT new numbness in my <b>legs</b>" in text  # as written, not as markup


def test_the_report_command_shows_it(written: dict[str, int], world: World,
                                     tmp_path: Path) -> None:
    out = tmp_path / "episode.html"
    result = CliRunner().invoke(app, ["report", "episode", str(written["urgent"]),
                                      "-o", str(out), "--url", str(world.engine.url)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert html.escape(URGENT, quote=False) in page and "<b>legs</b>" not in page
    assert "Mentions numbness" in page and "patient-reported" in page

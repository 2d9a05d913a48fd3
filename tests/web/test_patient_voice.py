"""The patient's voice (issue 22, item 3): answers outside a point's window are kept and
marked early or late, the point is done early or late on the worklist and the timeline;
links and their emails name their point; every link's delivery is shown, with why it failed."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sijcare.notify import deliver_due
from sijcare.notify.delivery import plain_error
from sijcare.store import status_on
from sijcare.store.models import FollowUpPoint, OutboxEmail, PromRecord, QuestionnaireLink
from sijcare.web.assessing import assess_episode
from tests.smtp_server import smtp_server
from tests.web.conftest import TODAY, World
from tests.web.test_worklist import injection, points

LINK = re.compile(r'value="https?://[^"/]+(/q/[^"]+)"')


def _answer(world: World, clinician: TestClient, episode_id: int, point: FollowUpPoint,
            comment: str = "") -> None:
    shown = clinician.post(f"/episodes/{episode_id}/follow-up/{point.id}/link")
    assert f"Link for the {'6-week' if point.point == '6w' else '2-week'} questionnaire" \
        in shown.text
    path = LINK.search(shown.text).group(1)
    patient = world.client()
    form = patient.get(path).text
    assert "This is your" in form and "-week questionnaire" in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answers = {"csrf_token": token, "nrs": "3", "pgic": "5", "comment": comment,
               **{f"odi.{i}": "1" for i in range(1, 11)}}
    done = patient.post(path, data={k: v for k, v in answers.items()
                                    if k.split(".")[0] in {*point.instruments, "csrf_token",
                                                           "comment"}})
    assert done.status_code == 200, done.text


def test_an_early_answer_is_kept_and_the_point_done_early(world: World,
                                                          clinician: TestClient) -> None:
    episode_id, _ = injection(world, days_ago=12)
    upcoming = points(world, episode_id)["6w"]
    assert status_on(upcoming, TODAY) == "upcoming"
    _answer(world, clinician, episode_id, upcoming, "feeling better already")
    with world.sessions() as db:
        link = db.scalar(select(QuestionnaireLink).where(
            QuestionnaireLink.episode_id == episode_id, QuestionnaireLink.point == "6w"))
        point = db.get(FollowUpPoint, upcoming.id)
        assert link.answered_timing == "early"
        assert (point.done, point.answered_timing) == (True, "early")
        assert status_on(point, TODAY) == "done_early"
        assert db.scalars(select(PromRecord).where(PromRecord.episode_id == episode_id,
                                                   PromRecord.patient_reported)).all()
    worklist = clinician.get("/worklist").text
    assert "6-week questionnaire" in worklist and "Done early" in worklist
    assert f'data-point="6w" data-status="upcoming">\n    <td><a href="/episodes/{episode_id}' \
        not in worklist
    episode = clinician.get(f"/episodes/{episode_id}").text
    assert "6-week questionnaire answered early" in episode
    assert "Answered early, before the point&#39;s window opened" in episode


def test_a_late_answer_is_kept_and_the_point_done_late(world: World,
                                                       clinician: TestClient) -> None:
    episode_id, _ = injection(world, days_ago=40)
    missed = points(world, episode_id)["2w"]
    assert status_on(missed, TODAY) == "missed"
    _answer(world, clinician, episode_id, missed)
    with world.sessions() as db:
        point = db.get(FollowUpPoint, missed.id)
        assert status_on(point, TODAY) == "done_late"
    page = clinician.get("/worklist").text
    assert "Done late" in page and "No comment" in page


def test_delivery_status_and_why_mail_is_not_delivered(world: World, clinician: TestClient,
                                                       tmp_path: Path) -> None:
    episode_id, _ = injection(world, days_ago=12)
    due = points(world, episode_id)["2w"]
    clinician.post(f"/episodes/{episode_id}/follow-up/{due.id}/send",
                   data={"email": "eve@example.org"}, follow_redirects=False)
    flashed = clinician.get("/worklist").text
    assert "2-week questionnaire link queued: it goes out within a minute, not delivered yet" \
        in flashed
    with smtp_server(tmp_path) as (mailbox, smtp), world.sessions() as db:
        mailbox.refuse = (451, "Requested action aborted: local error")
        assert deliver_due(db, smtp).retrying
        db.commit()
        page = clinician.get("/worklist").text
        assert ("not delivered yet: the mail server is busy or asked to try later; retried "
                "automatically") in page
        again = injection(world, days_ago=12)[0]
        clinician.post(f"/episodes/{again}/follow-up/{points(world, again)['2w'].id}/send",
                       data={"email": "fay@example.org"}, follow_redirects=False)
        flashed = clinician.get("/worklist").text
        assert ("link queued, not delivered yet: the last email could not be sent (the mail "
                "server is busy or asked to try later)") in flashed
        mailbox.refuse = None  # the server takes mail again; the retry is due now
        db.execute(update(OutboxEmail).values(next_attempt_at=OutboxEmail.created_at))
        deliver_due(db, smtp)
        db.commit()
    [message] = [m for m in mailbox.messages if m["To"] == "eve@example.org"]
    assert message["Subject"] == "North Clinic: your 2-week questionnaire"
    assert "this is your 2-week questionnaire" in message.get_content()
    assert "Email sent" in clinician.get("/worklist").text


def test_outbox_errors_in_plain_words() -> None:
    assert plain_error("ConnectionRefusedError: [Errno 111] Connection refused") == (
        "the mail server could not be reached")
    assert plain_error("recipient refused: {'a@b.org': (550, b'no')}") == (
        "the mail server refused the patient's address")
    assert plain_error("server said 535 b'auth failed'") == (
        "the mail server did not accept the clinic's mail account")
    assert plain_error("SMTPServerDisconnected: gone") == "the mail server could not take it"
    assert plain_error(None) is None


def _text(html: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_episode_page_says_a_point_answered_early_was_answered_not_upcoming(
        world: World, clinician: TestClient) -> None:
    """The engine counts answers inside the window only, so for it the 6-week point is still
    upcoming; the page says it was answered early, and when, wherever it shows the point."""
    episode_id, _ = injection(world, days_ago=12)
    _answer(world, clinician, episode_id, points(world, episode_id)["6w"])
    with world.sessions() as db:
        answered_on = db.scalar(select(QuestionnaireLink.used_at).where(
            QuestionnaireLink.episode_id == episode_id, QuestionnaireLink.point == "6w")).date()
        engine = {p.point: p.status for p in assess_episode(db, episode_id, "medicare",
                                                             TODAY).follow_up}
    assert engine["6w"] == "upcoming"  # its counting unchanged
    said = f"Done early: answered {answered_on.isoformat()}, before the window opened"
    page = clinician.get(f"/episodes/{episode_id}").text
    chart_row = re.search(r'<tr data-point="6w" data-status="([a-z_]+)">(.*?)</tr>', page, re.S)
    assert chart_row.group(1) == "done_early"
    assert said in _text(chart_row.group(2)) and "Upcoming" not in chart_row.group(2)
    schedule = page.split("<h3>Follow-up schedule</h3>")[1].split("</table>")[0]
    six_weeks = next(row for row in schedule.split("<tr>") if "<td>6 weeks" in row)
    assert said in _text(six_weeks) and "Upcoming" not in six_weeks
    others = [row for row in schedule.split("<tr>")[2:] if "<td>6 weeks" not in row]
    assert others and not any("Done early" in row for row in others)  # only that point
    band = _text(page.split('class="follow-up-due">')[1].split("</p>")[0])
    assert band.startswith("Follow-up done early: 6 weeks") and said.lower()[12:] in band

"""Appointment requests end to end: stored with consent and the self-check, a confirmation
email read back from a real SMTP server, hostile input refused, and a staff inbox that only
the clinic's own staff and clinicians can open."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sijcare.store.mail_limits import PER_RECIPIENT
from sijcare.store.models import AppointmentRequest, AuditEvent, OutboxEmail, Patient
from tests.smtp_server import Mailbox, smtp_server
from tests.web.conftest import World
from tests.web.public_helpers import PERSON, TYPICAL, hidden, request_appointment, visitor


@pytest.fixture(scope="module")
def mailbox(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as (box, smtp):
        settings = world.app.state.settings
        world.app.state.settings = dataclasses.replace(settings, smtp=smtp)
        yield box
        world.app.state.settings = settings


def stored(world: World) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count()).select_from(AppointmentRequest)) or 0


def latest(world: World) -> AppointmentRequest:
    with world.sessions() as db:
        return db.scalars(select(AppointmentRequest).order_by(AppointmentRequest.id.desc())
                          ).first()


def test_a_request_after_the_self_check_is_stored_and_confirmed_by_email(
        world: World, mailbox: Mailbox) -> None:
    mailbox.messages.clear()
    answer = request_appointment(world, visitor(world), PERSON, screen=TYPICAL)
    assert (answer.status_code, answer.headers["location"]) == (303, "/appointment/sent")
    saved = latest(world)
    assert (saved.given_name, saved.email, saved.status) == ("Ada", "ada@example.org", "new")
    assert saved.screen_result["result"] == "fits_sij"
    assert saved.screen_answers["points_one_finger_near_psis"] == "yes"
    assert saved.clinic_id == world.ids["north"]
    message = mailbox.only()
    assert message["To"] == "ada@example.org" and "North Clinic" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Hello,") and "Ada" not in body and "555 0100" in body
    assert "groin" not in body.lower() and "Pain on the left" not in body  # no health details
    with world.sessions() as db:
        assert db.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "ada@example.org")
                          ).first().sent_at is not None
        event = db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "appointment_request",
            AuditEvent.object_id == str(saved.id))).one()
        assert event.action == "create" and event.actor_id is None


def test_a_request_after_a_call_first_result_keeps_the_unsure_answer(world: World) -> None:
    unsure = {**TYPICAL, "red_flags.weak_immune_system": "unsure"}
    answer = request_appointment(world, visitor(world), {**PERSON, "email": "",
                                                         "phone": "+1 (555) 010-0300"}, unsure)
    assert answer.status_code == 303
    saved = latest(world)
    assert saved.screen_answers["red_flags"]["weak_immune_system"] == "unsure"
    assert saved.screen_result["next_step"] == "call_doctor"


def test_a_request_without_the_self_check_and_without_email(world: World) -> None:
    answer = request_appointment(world, visitor(world),
                                 {**PERSON, "email": "", "phone": "+1 (555) 010-0200"})
    assert answer.status_code == 303
    saved = latest(world)
    assert saved.screen_answers is None and saved.phone == "+1 (555) 010-0200"


@pytest.mark.parametrize(("change", "problem"), [
    ({"consent": ""}, "tick the box"),
    ({"email": "", "phone": ""}, "email address or a phone number"),
    ({"email": "ada@example.org\r\nBcc: all@example.org"}, "one line"),
    ({"given_name": "Ada\r\nSubject: win"}, "one line"),
    ({"given_name": "A" * 101}, "at most 100"),
    ({"message": "x" * 2001}, "at most 2000"),
    ({"birth_date": "2999-01-01"}, "not in the future"),
    ({"birth_date": "1970-02-30"}, "date"),
    ({"phone": "call me"}, "digits"),
    ({"email": "not-an-address"}, "email address"),
])
def test_a_half_valid_request_saves_nothing_and_says_why(world: World, change: dict,
                                                         problem: str) -> None:
    before = stored(world)
    answer = request_appointment(world, visitor(world), {**PERSON, **change})
    assert answer.status_code == 422 and problem in answer.text
    assert stored(world) == before
    assert "Ada" in answer.text or "given_name" in change  # typed values kept


def test_a_filled_honeypot_looks_sent_but_stores_nothing(world: World) -> None:
    before = stored(world)
    answer = request_appointment(world, visitor(world), {**PERSON, "website": "spam.example"})
    assert answer.headers["location"] == "/appointment/sent" and stored(world) == before


def test_a_form_sent_too_fast_or_with_a_forged_start_is_refused(world: World) -> None:
    before = stored(world)
    assert request_appointment(world, visitor(world), PERSON, wait=0.5).status_code == 422
    client = visitor(world)
    form = client.get("/appointment").text
    forged = client.post("/appointment", data={
        **PERSON, "csrf_token": hidden(form, "csrf_token"),
        "started": "1000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, follow_redirects=False)
    assert forged.headers["location"] == "/appointment/sent" and stored(world) == before


def test_without_the_csrf_token_nothing_is_stored(world: World) -> None:
    client = visitor(world)
    form = client.get("/appointment").text
    before = stored(world)
    answer = client.post("/appointment", data={**PERSON, "started": hidden(form, "started")})
    assert answer.status_code == 403 and stored(world) == before


def test_one_address_is_limited_across_processes(world: World) -> None:
    client = visitor(world)
    answers = [request_appointment(world, client, {**PERSON, "consent": ""}).status_code
               for _ in range(5)]
    assert answers == [422] * 5  # failed tries count too
    assert request_appointment(world, client, PERSON).status_code == 429
    assert request_appointment(world, visitor(world), PERSON).status_code == 303


def test_a_forged_self_check_is_judged_again_by_the_engine(world: World) -> None:
    client = visitor(world)
    form = client.get("/appointment").text
    world.clock.now += 5
    answer = client.post("/appointment", data={
        **PERSON, "csrf_token": hidden(form, "csrf_token"), "started": hidden(form, "started"),
        "screen": '{"answered_on": "2026-11-20", "result": "fits_sij"}'},
        follow_redirects=False)
    assert answer.status_code == 303 and latest(world).screen_result is None


# -- the staff inbox -------------------------------------------------------------------------


def test_staff_see_the_request_with_its_answers_and_can_mark_it(world: World,
                                                                staff: TestClient) -> None:
    request_appointment(world, visitor(world), {**PERSON, "given_name": "<script>x</script>"},
                        screen=TYPICAL)
    saved = latest(world)
    listing = staff.get("/inbox").text
    assert f'href="/inbox/{saved.id}"' in listing and "<script>x" not in listing
    page = staff.get(f"/inbox/{saved.id}").text
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "Fits SI-joint pain" in page
    assert "Do you have pain in your groin?" in page and "Physical therapy" in page
    answer = staff.post(f"/inbox/{saved.id}/status", data={"status": "contacted"},
                        follow_redirects=False)
    assert answer.status_code == 303 and latest(world).status == "contacted"
    assert f'href="/inbox/{saved.id}"' in staff.get("/inbox?status=contacted").text
    with world.sessions() as db:
        actions = db.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "appointment_request",
            AuditEvent.object_id == str(saved.id))).all()
    assert actions.count("read") >= 1 and "write" in actions


def test_a_request_becomes_a_patient_with_an_episode_without_retyping(
        world: World, clinician: TestClient) -> None:
    request_appointment(world, visitor(world), {**PERSON, "given_name": "Grace",
                                                "family_name": "Hopper"})
    saved = latest(world)
    bad = clinician.post(f"/inbox/{saved.id}/register", data={"sex": "", "complaint": "x",
                                                              "opened_on": "2026-12-01"})
    assert bad.status_code == 422 and latest(world).patient_id is None
    answer = clinician.post(f"/inbox/{saved.id}/register", data={
        "sex": "female", "complaint": "Left buttock pain", "opened_on": "2026-12-01"},
        follow_redirects=False)
    assert answer.status_code == 303
    done = latest(world)
    assert done.status == "registered" and done.episode_id is not None
    assert answer.headers["location"] == f"/patients/{done.patient_id}"
    with world.sessions() as db:
        patient = db.get(Patient, done.patient_id)
        assert (patient.given_name, patient.family_name, patient.birth_date.isoformat(),
                patient.clinic_id) == ("Grace", "Hopper", "1970-02-03", world.ids["north"])
    again = clinician.post(f"/inbox/{saved.id}/register", data={
        "sex": "female", "complaint": "x", "opened_on": "2026-12-01"})
    assert again.status_code == 422


def confirmation_in_inbox(staff: TestClient, request_id: int) -> tuple[str, str]:
    """The confirmation cell of the request's row in the inbox, and the line on its page."""
    listing = staff.get("/inbox?status=all").text
    row = re.search(rf'<tr>(?:(?!</tr>).)*href="/inbox/{request_id}"(?:(?!</tr>).)*</tr>',
                    listing, re.S)
    assert row, f"request {request_id} not listed"
    cell = re.search(r'<td class="delivery [a-z_]+">([^<]*)</td>', row.group(0))
    page = staff.get(f"/inbox/{request_id}").text
    line = re.search(r'<dt>Confirmation email</dt><dd class="delivery [a-z_]+">([^<]*)</dd>',
                     page)
    assert cell and line
    return cell.group(1), line.group(1)


def test_the_inbox_says_whether_each_request_was_confirmed_by_email(
        world: World, mailbox: Mailbox, staff: TestClient) -> None:
    """Read back from the real SMTP server: sent, refused by it, no address, held back."""
    def ask(person: dict) -> int:
        assert request_appointment(world, visitor(world), person).status_code == 303
        return latest(world).id

    sent = ask({**PERSON, "email": "sent@example.org"})
    assert [m["To"] for m in mailbox.messages][-1] == "sent@example.org"
    mailbox.refuse = (550, "5.1.1 mailbox unavailable")
    try:
        refused = ask({**PERSON, "email": "refused@example.org"})
    finally:
        mailbox.refuse = None
    no_email = ask({**PERSON, "email": "", "phone": "+1 (555) 010-0400"})
    for _ in range(PER_RECIPIENT):
        ask({**PERSON, "email": "often@example.org"})
    withheld = ask({**PERSON, "email": "often@example.org"})
    day = f"{latest(world).created_at:%Y-%m-%d}"
    expected = {
        sent: f"Confirmation sent {day}",
        refused: "Confirmation not delivered: the mail server refused the message",
        no_email: "No email given: not confirmed by email",
        withheld: "Not sent: too many confirmations to this address or from this "
                  "connection in a day"}
    for request_id, words in expected.items():
        assert confirmation_in_inbox(staff, request_id) == (words, words), request_id
    with world.sessions() as db:
        failed = db.get(OutboxEmail, db.get(AppointmentRequest, refused).confirmation_outbox_id)
        assert failed.failed_at is not None and "550" in failed.last_error
        assert db.get(AppointmentRequest, withheld).confirmation_outbox_id is None


def test_no_one_outside_the_clinics_staff_sees_a_request(world: World,
                                                         clients: dict[str, TestClient]
                                                         ) -> None:
    request_appointment(world, visitor(world), PERSON, screen=TYPICAL)
    saved = latest(world)
    assert clients["researcher"].get(f"/inbox/{saved.id}").status_code == 403
    assert clients["admin"].get("/inbox").status_code == 403
    for other in ("south_clinician", "south_staff"):
        assert clients[other].get(f"/inbox/{saved.id}").status_code == 404
        assert f'href="/inbox/{saved.id}"' not in clients[other].get("/inbox").text
        assert clients[other].post(f"/inbox/{saved.id}/status",
                                   data={"status": "declined"}).status_code == 404
    anonymous = visitor(world).get(f"/inbox/{saved.id}", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    assert latest(world).status == "new"

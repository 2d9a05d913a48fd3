"""The self-check pages over the engine's self-screen: warning signs first and alone, the
urgent page and nothing else, a call to a doctor before booking when a warning sign is
"not sure" (rule 1b), plain-word results, and nothing stored."""

from __future__ import annotations

import json

import pytest
import textstat
from sqlalchemy import func, select

from sijcare.knowledge import load_knowledge
from sijcare.screen_questions import RED_FLAG_QUESTIONS, answers_in_words
from sijcare.store.models import AppointmentRequest, AuditEvent, PublicFormAttempt
from tests.web.conftest import World
from tests.web.public_helpers import NO_FLAGS, RED_FLAGS, TYPICAL, hidden, post_form, visitor


def counts(world: World) -> tuple[int, ...]:
    with world.sessions() as db:
        return tuple(db.scalar(select(func.count()).select_from(t))
                     for t in (AppointmentRequest, PublicFormAttempt, AuditEvent))


def test_warning_signs_come_first_on_their_own_step(world: World) -> None:
    page = visitor(world).get("/screen").text
    assert page.count('type="radio"') == 3 * len(RED_FLAGS)
    assert "groin" not in page.lower() and "Step 1 of 2" in page
    for question in ("Is your immune system weak", "inject drugs into a vein",
                     "small fall or lifting something", "thin bones (osteoporosis)",
                     "steroid tablets"):
        assert question in page


def test_the_warning_sign_questions_read_at_grade_8_or_below() -> None:
    for question in RED_FLAG_QUESTIONS.values():
        assert textstat.flesch_kincaid_grade(question) <= 8, question


@pytest.mark.parametrize("flag", ["fever_or_unwell", "weak_immune_system",
                                  "fall_with_thin_bones"])
def test_rule_1b_an_unsure_sign_puts_the_call_before_the_appointment(world: World,
                                                                     flag: str) -> None:
    client = visitor(world)
    start = client.get("/screen").text
    pain = post_form(client, start, "/screen/warning-signs",
                     {**NO_FLAGS, f"red_flags.{flag}": "unsure"}).text
    assert "Step 2 of 2" in pain  # not urgent: the pain questions still come
    page = post_form(client, pain, "/screen/result",
                     {**TYPICAL, f"red_flags.{flag}": "unsure"}).text
    main = page.split("<main")[1]
    assert "<h1>Call your doctor or a nurse line today, before booking</h1>" in main
    words = next(q.words for q in load_knowledge().screen.red_flags if q.id == flag)
    assert main.index(words) < main.index("Answers that fit SI joint pain")
    assert main.count("<strong>Yes.</strong>") == 3  # scored as usual
    assert main.index("Call your doctor or a nurse line first.") < main.index(
        'action="/appointment/with-self-check"')
    assert "ask for an appointment at the clinic" not in main
    assert json.loads(hidden(page, "screen"))["red_flags"][flag] == "unsure"  # carried on


def test_the_staff_read_the_v3_answers_in_words() -> None:
    rows = answers_in_words({"red_flags": {"weak_immune_system": "unsure",
                                           "fall_with_thin_bones": "no"}})
    assert rows == [(RED_FLAG_QUESTIONS["weak_immune_system"], "Not sure"),
                    (RED_FLAG_QUESTIONS["fall_with_thin_bones"], "No")]


def test_every_warning_sign_must_be_answered(world: World) -> None:
    client = visitor(world)
    start = client.get("/screen").text
    answer = post_form(client, start, "/screen/warning-signs",
                       {k: v for k, v in NO_FLAGS.items() if "fever" not in k})
    assert answer.status_code == 422
    assert "Do you have a fever" in answer.text and "please answer" in answer.text


@pytest.mark.parametrize("flag", RED_FLAGS)
def test_any_yes_shows_only_the_urgent_page(world: World, flag: str) -> None:
    client = visitor(world)
    start = client.get("/screen").text
    page = post_form(client, start, "/screen/warning-signs",
                     {**NO_FLAGS, f"red_flags.{flag}": "yes"}).text
    emergency = flag in RED_FLAGS[:3]
    assert ("Get medical help now" if emergency else "See a doctor urgently") in page
    assert "score" not in page.lower() and "Your pain" not in page and "<form" not in page.split(
        "<main")[1]


@pytest.mark.parametrize("flag", RED_FLAGS[:3])
def test_unsure_about_an_emergency_sign_is_an_emergency(world: World, flag: str) -> None:
    client = visitor(world)
    start = client.get("/screen").text
    page = post_form(client, start, "/screen/warning-signs",
                     {**NO_FLAGS, f"red_flags.{flag}": "unsure"}).text
    assert "Get medical help now" in page


def test_a_warning_sign_posted_with_the_pain_step_still_stops_everything(world: World) -> None:
    client = visitor(world)
    start = client.get("/screen").text
    page = post_form(client, start, "/screen/result",
                     {**TYPICAL, "red_flags.saddle_numbness": "yes"}).text
    assert "Get medical help now" in page and "Answers that fit" not in page


def test_typical_answers_fit_and_say_which_and_why_without_storing(world: World) -> None:
    before = counts(world)
    client = visitor(world)
    start = client.get("/screen").text
    pain = post_form(client, start, "/screen/warning-signs", NO_FLAGS).text
    assert "Step 2 of 2" in pain and "<svg" in pain and 'role="img"' in pain
    assert "<title id=\"finger-title\">" in pain and "<desc" in pain
    page = post_form(client, pain, "/screen/result", TYPICAL).text
    assert "This is not a diagnosis." in page
    assert page.count("<strong>Yes.</strong>") == 3  # one finger, groin, sitting
    assert "None of your answers points to another cause." in page
    assert "ask for an appointment" in page.lower() and 'name="screen"' in page
    assert counts(world) == before  # nothing stored, not even an audit entry


def test_answers_pointing_elsewhere_are_named(world: World) -> None:
    client = visitor(world)
    page = post_form(client, client.get("/screen").text, "/screen/result", {
        **TYPICAL, "points_one_finger_near_psis": "no", "groin_pain": "no",
        "worse_sitting_on_chair": "no", "below_knee": "yes",
        "foot_numbness_or_tingling": "yes", "pain_areas.axial_low_back": "70",
        "pain_areas.sij_region": "10", "pain_areas.buttock_leg": "20"}).text
    assert "None of your answers is typical of SI joint pain." in page
    assert "nerve in the lower back" in page and "lower back itself" in page


def test_bad_answers_are_named_in_words_and_kept(world: World) -> None:
    client = visitor(world)
    answer = post_form(client, client.get("/screen").text, "/screen/result", {
        **NO_FLAGS, "groin_pain": "maybe", "pain_areas.sij_region": "70",
        "duration_months": "-3"})
    assert answer.status_code == 422
    text = answer.text
    assert "they sum to 70" in text and "Do you have pain in your groin?" in text
    assert "pain_areas" not in text.split("<main")[1].split("<form")[0]  # no field paths
    assert 'value="70"' in text  # what was typed stays


def test_the_pages_need_no_javascript(world: World) -> None:
    page = visitor(world).get("/screen").text
    assert '<form method="post" action="/screen/warning-signs"' in page

"""The public self-screen (ENGINE-RULES v2 "Self-screen" and v3 "Self-screen (version 3)"):
answers, rules in order, output."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sijcare.engine.facts import add_months
from sijcare.engine.screen import self_screen
from sijcare.knowledge import load_knowledge
from sijcare.model import CaseError
from sijcare.model.loading import parse_text
from sijcare.model.screen import parse_screen
from sijcare.reports.screen import render_screen

V2_FLAGS = ["saddle_numbness", "bladder_or_bowel_change", "leg_weakness_worsening",
            "fever_or_unwell", "cancer_history", "unexplained_weight_loss",
            "major_fall_or_accident"]
V3_FLAGS = ["weak_immune_system", "fall_with_thin_bones"]  # optional in the answers
FLAGS = V2_FLAGS + V3_FLAGS
EMERGENCY = FLAGS[:3]
NOT_EMERGENCY = FLAGS[3:]
ANSWERS: dict[str, Any] = {
    "answered_on": "2026-11-20",
    "red_flags": dict.fromkeys(FLAGS, "no"),
    "pain_started": "2026-05-01",
    "pain_areas": {"axial_low_back": 10, "sij_region": 60, "buttock_leg": 20,
                   "groin_anterior_thigh": 10},
    "points_one_finger_near_psis": "yes",
    "groin_pain": "no",
    "worse_sitting_on_chair": "yes",
    "below_knee": "no",
    "foot_numbness_or_tingling": "no",
    "tried": ["physical_therapy", "nsaid"],
}


def answers(**changes: Any) -> dict[str, Any]:
    """ANSWERS with top-level or `red_flags__key` changes; `...` deletes the field."""
    data = copy.deepcopy(ANSWERS)
    for key, value in changes.items():
        node, name = (data["red_flags"], key[11:]) if key.startswith("red_flags__") else (data,
                                                                                         key)
        if value is ...:
            node.pop(name, None)
        else:
            node[name] = value
    return data


def screen(**changes: Any) -> dict[str, Any]:
    return json.loads(self_screen(parse_screen(answers(**changes))).model_dump_json())


def words_of(flag: str) -> str:
    """The plain words the knowledge base uses for a warning-sign question."""
    return next(q.words for q in load_knowledge().screen.red_flags if q.id == flag)


def problems(data: Any) -> list[str]:
    with pytest.raises(CaseError) as caught:
        parse_screen(data)
    return caught.value.problems


# --- rule 1: warning signs -------------------------------------------------------------------

@pytest.mark.parametrize("flag", FLAGS)
def test_any_red_flag_yes_is_urgent_care_and_nothing_else(flag):
    out = screen(**{f"red_flags__{flag}": "yes"})
    assert set(out) == {"result", "emergency", "next_step", "reasons"}
    assert out["result"] == "seek_urgent_care"
    assert out["next_step"] == "urgent_care"
    assert out["emergency"] is (flag in EMERGENCY)
    assert out["reasons"] and all(r["sources"] for r in out["reasons"])
    assert all(len(set(r["sources"])) == len(r["sources"]) for r in out["reasons"])  # each once


@pytest.mark.parametrize("flag", EMERGENCY)
def test_unsure_on_an_emergency_question_is_an_emergency(flag):
    out = screen(**{f"red_flags__{flag}": "unsure"})
    assert (out["result"], out["emergency"]) == ("seek_urgent_care", True)


@pytest.mark.parametrize("flag", V3_FLAGS)
def test_rule_1_a_yes_to_a_v3_question_is_urgent_care_not_an_emergency(flag):
    out = screen(**{f"red_flags__{flag}": "yes"})
    assert (out["result"], out["emergency"], out["next_step"]) == (
        "seek_urgent_care", False, "urgent_care")
    [reason] = out["reasons"]
    assert reason["rule"] == "screen_urgent_care"
    assert words_of(flag) in reason["text"]
    assert reason["inputs"]["answers"] == {flag: "yes"}


@pytest.mark.parametrize("flag", NOT_EMERGENCY)
def test_rule_1b_unsure_on_another_question_is_scored_as_usual_but_calls_a_doctor_first(flag):
    sure, out = screen(), screen(**{f"red_flags__{flag}": "unsure"})
    assert "emergency" not in out
    scored = ("result", "self_score", "exam_points_possible", "other_sources",
              "duration_months", "recent")
    assert {k: out[k] for k in scored} == {k: sure[k] for k in scored}
    assert out["next_step"] == "call_doctor"
    [reason] = [r for r in out["reasons"] if r["rule"] == "unsure_red_flag"]
    assert words_of(flag) in reason["text"]
    assert "call your doctor or a nurse line today" in reason["text"].lower()
    assert {"glos_lbp_pathway", "ahcpr_1994"} <= set(reason["sources"])
    assert reason["inputs"]["answers"] == {flag: "unsure"}
    rules = [r["rule"] for r in out["reasons"]]
    assert "screen_appointment" not in rules and "screen_primary_care" not in rules


def test_rule_1b_names_every_question_answered_unsure_in_one_reason():
    out = screen(red_flags__cancer_history="unsure", red_flags__fall_with_thin_bones="unsure")
    [reason] = [r for r in out["reasons"] if r["rule"] == "unsure_red_flag"]
    assert words_of("cancer_history") in reason["text"]
    assert words_of("fall_with_thin_bones") in reason["text"]
    assert reason["inputs"]["answers"] == {"cancer_history": "unsure",
                                           "fall_with_thin_bones": "unsure"}


def test_rule_1b_calls_a_doctor_first_even_when_the_pain_points_nowhere():
    out = screen(red_flags__weak_immune_system="unsure", points_one_finger_near_psis="no",
                 worse_sitting_on_chair="no")
    assert (out["result"], out["next_step"]) == ("unlikely_sij", "call_doctor")


@pytest.mark.parametrize("flag", EMERGENCY)
def test_rule_1_unsure_on_an_emergency_question_stays_an_emergency_beside_rule_1b(flag):
    out = screen(**{f"red_flags__{flag}": "unsure"}, red_flags__weak_immune_system="unsure")
    assert (out["result"], out["emergency"], out["next_step"]) == (
        "seek_urgent_care", True, "urgent_care")
    assert [r["rule"] for r in out["reasons"]] == ["screen_urgent_care"]


@pytest.mark.parametrize(("yes", "unsure"), [("fever_or_unwell", "fall_with_thin_bones"),
                                             ("weak_immune_system", "cancer_history")])
def test_rule_1_an_unsure_beside_a_yes_stays_urgent_care(yes, unsure):
    out = screen(**{f"red_flags__{yes}": "yes", f"red_flags__{unsure}": "unsure"})
    assert set(out) == {"result", "emergency", "next_step", "reasons"}
    assert (out["result"], out["emergency"], out["next_step"]) == (
        "seek_urgent_care", False, "urgent_care")
    assert [r["rule"] for r in out["reasons"]] == ["screen_urgent_care"]


def test_answers_without_the_v3_questions_are_still_valid():
    out = screen(red_flags__weak_immune_system=..., red_flags__fall_with_thin_bones=...)
    assert (out["result"], out["next_step"]) == ("fits_sij", "appointment")


def test_every_screen_question_is_an_answer_field_and_asked_by_the_web_form():
    from sijcare.model.screen import RedFlagAnswers
    from sijcare.screen_questions import RED_FLAG_QUESTIONS

    asked = [q.id for q in load_knowledge().screen.red_flags]
    assert asked == list(RedFlagAnswers.model_fields) == list(RED_FLAG_QUESTIONS) == FLAGS


def test_an_emergency_answer_outranks_other_warning_signs():
    out = screen(red_flags__cancer_history="yes", red_flags__saddle_numbness="unsure")
    assert out["emergency"] is True
    assert "back passage" in out["reasons"][0]["text"]


def test_no_warning_sign_gives_no_emergency_field():
    assert "emergency" not in screen()


# --- rules 2 and 3: the self score -----------------------------------------------------------

@pytest.mark.parametrize(("finger", "groin", "sitting", "score", "result"), [
    ("yes", "yes", "yes", 6, "fits_sij"),
    ("yes", "no", "yes", 4, "fits_sij"),
    ("yes", "no", "no", 3, "exam_decides"),
    ("no", "yes", "yes", 3, "exam_decides"),
    ("no", "yes", "no", 2, "exam_decides"),
    ("no", "no", "yes", 1, "exam_decides"),
    ("unsure", "no", "no", 0, "unlikely_sij"),
    ("no", "no", "no", 0, "unlikely_sij"),
])
def test_kurosawa_self_score_and_result(finger, groin, sitting, score, result):
    out = screen(points_one_finger_near_psis=finger, groin_pain=groin,
                 worse_sitting_on_chair=sitting)
    assert (out["self_score"], out["result"], out["exam_points_possible"]) == (score, result, 3)


def test_score_weights_and_cutoff_come_from_the_knowledge_base():
    kurosawa = load_knowledge().examination.kurosawa
    weights = {i.id: i.points for i in kurosawa.items}
    assert (weights["one_finger_psis"], weights["groin_pain"], weights["sitting_pain"]) == (3, 2, 1)
    assert kurosawa.cutoff == 4
    assert sum(weights.values()) == 9


# --- rule 4: other sources -------------------------------------------------------------------

@pytest.mark.parametrize(("below_knee", "foot", "areas", "expected"), [
    ("yes", "yes", None, ["nerve_root"]),
    ("yes", "no", None, []),
    ("no", "yes", None, []),
    ("no", "no", {"axial_low_back": 50, "sij_region": 40, "buttock_leg": 10}, ["lumbar_spine"]),
    ("no", "no", {"axial_low_back": 40, "sij_region": 40, "buttock_leg": 20}, []),
    ("yes", "yes", {"axial_low_back": 70, "sij_region": 30}, ["nerve_root", "lumbar_spine"]),
])
def test_other_sources_in_order(below_knee, foot, areas, expected):
    out = screen(below_knee=below_knee, foot_numbness_or_tingling=foot,
                 pain_areas=... if areas is None else areas)
    assert out["other_sources"] == expected


# --- rule 5: duration ------------------------------------------------------------------------

@pytest.mark.parametrize(("started", "answered", "months", "recent"), [
    ("2026-08-31", "2026-11-30", 3, False),
    ("2026-08-31", "2026-11-29", 2, True),
    ("2026-08-20", "2026-11-20", 3, False),
    ("2026-08-21", "2026-11-20", 2, True),
    ("2026-11-20", "2026-11-20", 0, True),
    ("2024-02-29", "2026-02-28", 24, False),
    ("2026-01-31", "2026-02-28", 1, True),  # a month-end start counts the short month whole
    ("2025-11-20", "2026-11-20", 12, False),
])
def test_duration_in_calendar_months(started, answered, months, recent):
    out = screen(pain_started=started, answered_on=answered)
    assert (out["duration_months"], out["recent"]) == (months, recent)


@pytest.mark.parametrize(("given", "recent"), [(2, True), (3, False), (2.5, True), (12, False)])
def test_duration_as_given(given, recent):
    out = screen(pain_started=..., duration_months=given)
    assert (out["duration_months"], out["recent"]) == (given, recent)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dates(date(2000, 1, 1), date(2030, 1, 1)), st.integers(0, 3000))
def test_duration_is_the_largest_whole_month_count(start, days):
    answered = start + timedelta(days=days)
    data = answers(pain_started=start.isoformat(), answered_on=answered.isoformat())
    months = self_screen(parse_screen(data)).duration_months
    assert add_months(start, months) <= answered < add_months(start, months + 1)


# --- rule 6: next step -----------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "step"), [
    ({}, "appointment"),
    ({"points_one_finger_near_psis": "no", "worse_sitting_on_chair": "no"}, "primary_care"),
    ({"points_one_finger_near_psis": "no", "worse_sitting_on_chair": "no",
      "below_knee": "yes", "foot_numbness_or_tingling": "yes"}, "appointment"),
    ({"points_one_finger_near_psis": "no", "worse_sitting_on_chair": "no",
      "pain_areas": {"axial_low_back": 90, "sij_region": 10}}, "appointment"),
    ({"points_one_finger_near_psis": "no", "worse_sitting_on_chair": "yes"}, "appointment"),
    ({"red_flags__fever_or_unwell": "yes"}, "urgent_care"),
    ({"red_flags__fever_or_unwell": "unsure"}, "call_doctor"),
    ({"red_flags__fever_or_unwell": "unsure", "points_one_finger_near_psis": "no",
      "worse_sitting_on_chair": "no"}, "call_doctor"),
])
def test_next_step(changes, step):
    assert screen(**changes)["next_step"] == step


@pytest.mark.parametrize("changes", [{}, {"red_flags__major_fall_or_accident": "unsure"}])
def test_output_fields_without_a_warning_sign_or_with_an_unsure_one(changes):
    out = screen(**changes)
    assert set(out) == {"result", "self_score", "exam_points_possible", "other_sources",
                        "duration_months", "recent", "next_step", "reasons"}
    assert all(set(r) >= {"rule", "text", "sources"} for r in out["reasons"])
    assert any(r["sources"] for r in out["reasons"])


ANSWER = st.sampled_from(["yes", "no", "unsure"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({flag: ANSWER for flag in V2_FLAGS},
                             optional={flag: ANSWER for flag in V3_FLAGS}),
       ANSWER, st.booleans(), st.booleans())
def test_property_rules_1_and_1b_decide_the_next_step(flags, finger, groin, sit):
    data = answers(red_flags=flags, points_one_finger_near_psis=finger, groin_pain=groin,
                   worse_sitting_on_chair=sit)
    out = self_screen(parse_screen(data))
    urgent = "yes" in flags.values() or any(flags[f] == "unsure" for f in EMERGENCY)
    call_first = not urgent and any(flags.get(f) == "unsure" for f in NOT_EMERGENCY)
    assert (out.result == "seek_urgent_care") is urgent
    assert (out.next_step == "urgent_care") is urgent
    assert (out.next_step == "call_doctor") is call_first
    assert (out.self_score is None) is urgent and (out.other_sources is None) is urgent
    assert [r.rule for r in out.reasons].count("unsure_red_flag") == int(call_first)


# --- answers: validation ---------------------------------------------------------------------

def test_yaml_yes_no_booleans_are_accepted_like_the_words():
    text = (
        "answered_on: 2026-11-20\nred_flags: {" + ", ".join(f"{f}: no" for f in FLAGS[:-1])
        + f", {FLAGS[-1]}: yes}}\n"
        "pain_started: 2026-05-01\npoints_one_finger_near_psis: yes\ngroin_pain: no\n"
        "worse_sitting_on_chair: yes\nbelow_knee: no\nfoot_numbness_or_tingling: no\n")
    parsed = parse_text(text)
    assert parsed["groin_pain"] is False  # YAML 1.1: the reader hands over booleans
    loaded = parse_screen(parsed)
    assert (loaded.points_one_finger_near_psis, loaded.groin_pain) == ("yes", "no")
    assert (loaded.red_flags.weak_immune_system, loaded.red_flags.fall_with_thin_bones) == (
        "no", "yes")
    assert self_screen(loaded).result == "seek_urgent_care"
    parsed["red_flags"][FLAGS[-1]] = False
    assert self_screen(parse_screen(parsed)).self_score == 4


def test_every_red_flag_key_and_yes_no_item_is_required():
    data = answers(red_flags__cancer_history=..., groin_pain=..., below_knee=...)
    assert problems(data) == ["red_flags.cancer_history: is required", "groin_pain: is required",
                              "below_knee: is required"]


@pytest.mark.parametrize("flag", V3_FLAGS)
@pytest.mark.parametrize("value", ["maybe", 1, "Yes"])
def test_a_bad_answer_to_a_v3_question_is_one_problem_naming_it(flag, value):
    assert problems(answers(**{f"red_flags__{flag}": value})) == [
        f"red_flags.{flag}: got {value!r}; input should be 'yes', 'no' or 'unsure'"]


def test_answered_on_is_required():
    assert problems(answers(answered_on=...)) == ["answered_on: is required"]


def test_pain_started_or_duration_is_required_and_not_both():
    assert problems(answers(pain_started=...)) == [
        "pain_started: is required (or give duration_months)"]
    assert "not both" in problems(answers(duration_months=6))[0]


def test_unknown_fields_and_words_are_errors_naming_the_path():
    found = problems(answers(mood="fine", red_flags__fever_or_unwell="maybe",
                             groin_pain="unsure"))
    assert "mood: is not a field of the self-screen (check the spelling)" in found
    assert any(p.startswith("red_flags.fever_or_unwell: got 'maybe'") for p in found)
    assert any(p.startswith("groin_pain: got 'unsure'") for p in found)  # yes | no only


def test_pain_started_after_answered_on_is_invalid():
    assert problems(answers(pain_started="2026-11-21")) == [
        "pain_started: 2026-11-21 is after answered_on 2026-11-20"]


@pytest.mark.parametrize("areas", [{"axial_low_back": 50, "sij_region": 40},
                                   {"sij_region": 120}])
def test_pain_areas_must_sum_to_100(areas):
    assert problems(answers(pain_areas=areas))[0].startswith("pain_areas")


def test_bad_dates_and_numbers():
    assert problems(answers(answered_on="2026-02-30"))[0].startswith("answered_on:")
    assert problems(answers(pain_started=..., duration_months=True))[0].startswith(
        "duration_months:")
    assert problems(answers(pain_started=..., duration_months=-1))[0].startswith(
        "duration_months:")


def test_answers_must_be_a_mapping():
    assert "mapping" in problems(["yes"])[0]


# --- the words a member of the public reads --------------------------------------------------

def test_text_with_a_warning_sign_is_urgent_care_alone():
    result = self_screen(parse_screen(answers(red_flags__bladder_or_bowel_change="yes")))
    text = render_screen(result, load_knowledge())
    assert text.startswith("GET MEDICAL HELP NOW")
    assert "emergency" in text.lower()
    assert "appointment at the clinic" not in text and "score" not in text


def test_text_without_a_warning_sign_says_what_to_do_and_never_diagnoses():
    for changes in ({}, {"points_one_finger_near_psis": "no", "worse_sitting_on_chair": "no"},
                    {"worse_sitting_on_chair": "no"}):
        text = render_screen(self_screen(parse_screen(answers(**changes))), load_knowledge())
        assert "What to do next" in text
        assert "not a diagnosis" in text or "cannot tell" in text
        for jargon in ("SIJ", "PSIS", "Kurosawa", "radicular", "lumbar", "you have sacroiliac",
                       "your pain comes from the"):
            assert jargon not in text


def test_text_with_an_unsure_warning_sign_says_to_call_first_then_the_result():
    result = self_screen(parse_screen(answers(red_flags__weak_immune_system="unsure")))
    text = render_screen(result, load_knowledge())
    assert text.startswith("CALL YOUR DOCTOR OR A NURSE LINE TODAY, BEFORE BOOKING\n\n")
    call = text.index("before you book an appointment")
    assert call < text.index("Your answers fit pain from the sacroiliac joint")
    assert "immune system" in text[:text.index("Your answers fit")]
    assert "What to do next: ask for an appointment" not in text
    assert "cannot tell" in text


def test_every_reason_the_screen_gives_can_be_explained():
    from sijcare.explain import catalogue

    rules = catalogue(load_knowledge())
    outs = [screen(), screen(red_flags__fever_or_unwell="yes"),
            screen(red_flags__cancer_history="unsure", points_one_finger_near_psis="no",
                   worse_sitting_on_chair="no", below_knee="yes", foot_numbness_or_tingling="yes",
                   pain_areas={"axial_low_back": 80, "sij_region": 20})]
    cited = [r["rule"] for out in outs for r in out["reasons"]]
    assert all(rule in rules for rule in cited), [r for r in cited if r not in rules]

"""`sijcare screen` as a member of the public's helper runs it: real subprocesses."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SCREEN_EXAMPLES
from tests.test_cli import sijcare
from tests.test_screen import answers

TYPICAL = str(SCREEN_EXAMPLES / "typical.yaml")


def test_typical_example_as_json():
    done = sijcare("screen", TYPICAL)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["result"], out["self_score"], out["next_step"]) == ("fits_sij", 6, "appointment")
    assert out["duration_months"] == 6


def test_typical_example_as_text():
    done = sijcare("screen", TYPICAL, "--format", "text")
    assert done.returncode == 0, done.stderr
    assert "What to do next" in done.stdout
    assert not done.stdout.lstrip().startswith("{")


def test_answers_from_stdin_as_json():
    done = sijcare("screen", "-", stdin=json.dumps(answers(red_flags__fever_or_unwell="yes")))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == "seek_urgent_care"


def test_urgent_text_stands_alone():
    done = sijcare("screen", "-", "--format", "text",
                   stdin=json.dumps(answers(red_flags__saddle_numbness="yes")))
    assert done.stdout.startswith("GET MEDICAL HELP NOW")
    assert "What to do next: ask for an appointment" not in done.stdout


def test_bad_answers_exit_2_with_one_line_each_and_nothing_on_stdout():
    bad = answers(groin_pain=..., red_flags__fever_or_unwell="maybe", pain_started="2027-01-01")
    done = sijcare("screen", "-", stdin=json.dumps(bad))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("flag", ["weak_immune_system", "fall_with_thin_bones"])
def test_a_bad_answer_to_a_v3_question_exits_2_with_one_line_naming_it(flag):
    done = sijcare("screen", "-", stdin=json.dumps(answers(**{f"red_flags__{flag}": "maybe"})))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"error: red_flags.{flag}: got 'maybe'; input should be 'yes', "
                           "'no' or 'unsure'\n")


def test_rule_1b_as_text_says_to_call_before_booking():
    done = sijcare("screen", "-", "--format", "text",
                   stdin=json.dumps(answers(red_flags__fall_with_thin_bones="unsure")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("CALL YOUR DOCTOR OR A NURSE LINE TODAY, BEFORE BOOKING")
    assert "thin bones" in done.stdout


def test_yaml_syntax_error_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text("answered_on: [2026-11-20\n")
    done = sijcare("screen", str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {path}: not valid YAML")


def test_missing_file():
    done = sijcare("screen", "no-such-answers.yaml")
    assert (done.returncode, done.stderr) == (
        2, "error: no-such-answers.yaml: no such answers file\n")


@pytest.mark.parametrize("args", [["screen", TYPICAL, "--format", "xml"],
                                  ["assess", "x.yaml", "--format", "xml"],
                                  ["frobnicate"], ["screen"], ["knowledge", "nothing"]])
def test_usage_mistakes_are_one_error_line_not_a_panel(args):
    done = sijcare(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "╭" not in done.stderr and "Usage:" not in done.stderr

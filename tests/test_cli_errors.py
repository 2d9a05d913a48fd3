"""Bad input to any command: one `error:` line per problem, exit 2, nothing on stdout."""

from __future__ import annotations

import json

from tests.test_cli import sijcare


def test_yaml_syntax_error_in_a_case_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("as_of: 2026-11-01\npatient: {id: a\n")
    done = sijcare("assess", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {path}: not valid YAML: ")
    assert "<unicode string>" not in done.stderr and "line 3" in done.stderr


def test_json_syntax_error_names_standard_input():
    done = sijcare("assess", "-", stdin="{\"as_of\": ")
    assert done.returncode == 2
    assert done.stderr.startswith("error: standard input: not valid JSON: ")
    assert done.stderr.count("\n") == 1


def test_odi_answers_count_from_0_like_case_paths():
    done = sijcare("score", "odi", "1", "2", "3", "9", "1", "1", "1", "1", "1", "1")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "error: answers[3]: '9' is not 0-5 or '-'\n"


def test_knowledge_evidence_by_the_start_of_an_id():
    done = sijcare("knowledge", "evidence", "rfa")
    assert done.returncode == 0, done.stderr
    assert [t["id"] for t in json.loads(done.stdout)] == ["rfa_conventional", "rfa_cooled"]
    exact = json.loads(sijcare("knowledge", "evidence", "rfa_cooled").stdout)
    assert exact["id"] == "rfa_cooled"
    unknown = sijcare("knowledge", "evidence", "laser")
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: treatment: unknown")


def test_unknown_option_is_an_error_line():
    done = sijcare("assess", "x.yaml", "--colour")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: no such option: --colour")


def test_help_still_works():
    done = sijcare("--help")
    assert done.returncode == 0 and "screen" in done.stdout
    bare = sijcare()
    assert bare.returncode == 0 and "assess" in bare.stdout


def test_odi_answers_in_other_digits_are_one_error_line_not_a_traceback():
    """Issue 20, L10: `'²'.isdigit()` is true, and int('²') raised out of the command."""
    for odd in ("²", "\u0663", "+1", " 1", "01"):
        done = sijcare("score", "odi", odd, "2", "3", "2", "1", "3", "2", "2", "-", "3")
        assert (done.returncode, done.stdout) == (2, ""), odd
        assert done.stderr == f"error: answers[0]: '{odd}' is not 0-5 or '-'\n"


def test_an_episode_id_past_any_row_is_one_error_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    for command in (["report", "episode"], ["report", "prior-auth", "--option", "sij_rfa"]):
        done = sijcare(*command, str(2**64), "--url", url, "-o", str(tmp_path / "r.pdf"))
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == f"error: episode: no episode {2**64}\n"

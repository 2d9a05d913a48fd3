"""The `sijcare` command as users run it: real subprocesses for exit codes and streams."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, make

CONTRACT_KEYS = {"schema_version", "knowledge_version", "policy", "stage", "red_flags",
                 "sij_likelihood", "block", "differential", "referrals", "eligibility", "alerts",
                 "outcomes", "reasons"}
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def sijcare(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sijcare.cli", *args], input=stdin,
                          capture_output=True, text=True, check=False)


def test_examples_are_present():
    assert len(EXAMPLE_FILES) == 3


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("policy", ["medicare", "clinic"])
def test_assess_examples_print_contract_json(path, policy):
    done = sijcare("assess", str(path), "--policy", policy)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) >= CONTRACT_KEYS
    assert data["policy"] == policy
    assert set(data["sij_likelihood"]) >= {"prior", "posterior", "cluster"}
    assert set(data["sij_likelihood"]["cluster"]) >= {"rule", "performed", "positive", "result"}
    assert set(data["block"]) >= {"date", "relief_percent", "threshold", "result"}
    assert set(data["eligibility"]) == {"diagnostic_sij_injection", "therapeutic_sij_injection",
                                        "sij_rfa", "regenerative_injection", "mis_sij_fusion"}


def test_example_stages():
    stages = {p.stem: json.loads(sijcare("assess", str(p)).stdout)["stage"]
              for p in EXAMPLE_FILES}
    assert stages == {"classic-sij": "diagnostic_block", "red-flag": "urgent_referral",
                      "after-injection": "surgical_evaluation"}


def test_classic_example_numbers():
    data = json.loads(sijcare("assess", str(EXAMPLES / "classic-sij.yaml")).stdout)
    assert data["sij_likelihood"]["posterior"] == 0.517
    assert data["outcomes"]["odi"] == {"score": 46.7, "band": "severe", "answered": 9,
                                       "date": "2026-06-01"}
    assert data["outcomes"]["nrs"] == {"value": 7, "date": "2026-06-01"}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_text_report_is_readable(path):
    done = sijcare("assess", str(path), "--format", "text")
    assert done.returncode == 0
    for heading in ("Stage: ", "Options under policy medicare", "Alerts\n", "Sources\n"):
        assert heading in done.stdout
    assert "\x1b[" not in done.stdout  # plain text when not a terminal


def test_stdin_json():
    done = sijcare("assess", "-", stdin=json.dumps(make()))
    assert done.returncode == 0
    assert json.loads(done.stdout)["stage"] == "interventional_treatment"


BAD_CASES = {
    "unknown-key.json": json.dumps(make(history__colour="red")),
    "pain-range.json": json.dumps(make(history__pain_nrs=11)),
    "odi-answer.json": json.dumps(make(proms=[{"date": "2026-06-01", "instrument": "odi",
                                               "answers": [7, 0, 0, 0, 0, 0, 0, 0, 0, 0]}])),
    "impossible-date.yaml": "as_of: 2026-02-30\npatient: {id: x}\n",
    "zero-block.json": json.dumps(make(blocks=[{"date": "2026-06-01", "guidance": "ct",
                                                "pain_before": 0, "pain_after": 0}])),
    "not-yaml.yaml": "as_of: [2026\n",
    "not-json.json": "{as_of:",
    "list.yaml": "- 1\n- 2\n",
    "empty.yaml": "",
    "wrong-type.json": json.dumps(make(blocks="many")),
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_invalid_cases_exit_2_cleanly(tmp_path: Path, name):
    path = tmp_path / name
    path.write_text(BAD_CASES[name])
    done = sijcare("assess", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [
    ["assess", "/no/such/case.yaml"],
    ["assess", "CASE", "--policy", "aetna"],
    ["assess", "CASE", "--prior", "1.5"],
    ["assess", "CASE", "--prior", "0"],
    ["assess", "CASE", "--format", "xml"],
    ["score", "odi", "1", "2"],
    ["score", "odi", *["1"] * 9, "6"],
    ["score", "odi", *["x"] * 10],
    ["explain", "no_such_rule"],
    ["knowledge", "policies", "aetna"],
])
def test_bad_arguments_exit_2(args):
    args = [str(EXAMPLES / "classic-sij.yaml") if a == "CASE" else a for a in args]
    done = sijcare(*args)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr and done.stderr.strip()


def test_field_error_names_the_path(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(make(history__pain_nrs=11)))
    assert "history.pain_nrs" in sijcare("assess", str(path)).stderr


def test_score_odi():
    done = sijcare("score", "odi", "3", "2", "3", "2", "1", "3", "2", "2", "-", "3")
    assert done.returncode == 0
    assert json.loads(done.stdout) | {"sources": []} == {
        "instrument": "odi", "score": 46.7, "band": "severe", "answered": 9, "sources": []}


def test_score_odi_too_few_answers_is_unscored():
    done = sijcare("score", "odi", "3", "2", "3", "2", "1", "3", "2", "-", "-", "3")
    assert json.loads(done.stdout)["score"] is None


def test_knowledge_listing_and_details():
    assert "laslett_2005_3_of_6" in sijcare("knowledge", "tests").stdout
    assert "medicare" in sijcare("knowledge", "policies").stdout
    assert json.loads(sijcare("knowledge", "policies", "clinic").stdout)["block_threshold"] == 50
    assert json.loads(sijcare("knowledge", "sources", "laslett_2005").stdout)["year"] == 2005
    assert "prolotherapy" in sijcare("knowledge", "evidence").stdout
    assert json.loads(sijcare("knowledge", "evidence", "prp").stdout)["studies"]
    assert "sources:" in sijcare("knowledge").stdout


@pytest.mark.parametrize(("rule", "words"), [
    ("stage.surgical_evaluation", "26 weeks"),
    ("laslett_2005_3_of_6", "lr_positive: 4.29"),
    ("repeat_response", "Provisional"),
    ("steroid_frequency_limit", "block_at: 4"),
    ("medicare.diagnostic_sij_injection.provocation_3_positive", "yeoman"),
])
def test_explain(rule, words):
    done = sijcare("explain", rule)
    assert done.returncode == 0
    assert words in done.stdout
    assert "source [" in done.stdout

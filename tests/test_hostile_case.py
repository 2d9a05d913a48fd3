"""The case loader under hostile input: whatever arrives (a random tree, a valid case bent in
a few places, broken YAML or JSON text), the answer is a Case or a CaseError whose every line
names the field it is about, never another exception."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sijcare.model import Case, CaseError, parse_case
from sijcare.model.loading import load_case, parse_text
from tests.conftest import BASE, EXAMPLES
from tests.fuzzing import fuzzing, report_counts
from tests.mutations import bent, trees

VALID = [BASE] + [parse_text(path.read_text()) for path in sorted(EXAMPLES.glob("*.yaml"))]
FIELDS = sorted(Case.model_fields)
# a problem line: a field path (`blocks[0].pain_before`) and what is wrong, or a sentence
# about the whole case when it is not a mapping
SEGMENT = r"""(?:[A-Za-z_]\w*|\[(?:\d+|'.*?'|".*?")(?:\.\.\.)?\])"""
FIELD_LINE = re.compile(rf"(?P<top>{SEGMENT})(?:\.?{SEGMENT})*: \S")
WHOLE = "the case must be a mapping of fields (a YAML or JSON object)"
TRIED = {"trees": 0, "bent cases": 0, "texts": 0}


def outcome(data: object) -> Case | CaseError:
    """parse_case's answer; any other exception fails the test."""
    try:
        return parse_case(data)
    except CaseError as error:
        return error


def assert_names_fields(error: CaseError, data: object) -> None:
    assert error.problems, "a CaseError without a problem"
    if not isinstance(data, dict):
        assert error.problems == [WHOLE]
        return
    for problem in error.problems:
        match = FIELD_LINE.match(problem)
        assert match, f"names no field: {problem!r}"
        top = match["top"]  # a case field, or a key sent (quoted unless a plain name)
        assert top in FIELDS or top in data or top.startswith("["), problem
        assert len(problem) < 600, f"a problem line too long to read: {problem[:200]}"


@fuzzing(400)
@given(data=trees(st.sampled_from(FIELDS) | st.text(max_size=8)))
def test_any_tree_is_a_case_or_errors_naming_fields(data: object) -> None:
    TRIED["trees"] += 1
    answer = outcome(data)
    if isinstance(answer, CaseError):
        assert_names_fields(answer, data)


@fuzzing(300)
@given(data=st.sampled_from(VALID).flatmap(bent))
def test_a_bent_valid_case_is_a_case_or_errors_naming_fields(data: object) -> None:
    TRIED["bent cases"] += 1
    answer = outcome(data)
    if isinstance(answer, CaseError):
        assert_names_fields(answer, data)
    else:
        assert isinstance(answer, Case)


def _texts() -> st.SearchStrategy[tuple[str, str]]:
    """A valid case as JSON or YAML text with a few characters inserted or removed."""
    written = [(json.dumps(case), "json") for case in VALID] + [
        (yaml.safe_dump(case), "yaml") for case in VALID]

    @st.composite
    def cut(draw: st.DrawFn) -> tuple[str, str]:
        text, kind = draw(st.sampled_from(written))
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(["", "{", "]", ":", "\n- ", "'", "\t",
                                                      "!!python/object:os.system", "&a *a",
                                                      "\x00", "\ufeff"])) + text[at + 1:]
        return text, kind
    return cut()


@fuzzing(300)
@given(sent=_texts())
def test_broken_text_is_a_case_or_one_clear_error(sent: tuple[str, str]) -> None:
    TRIED["texts"] += 1
    text, kind = sent
    try:
        data = parse_text(text, kind=kind, name="case.txt")
    except CaseError as error:
        [problem] = error.problems
        assert problem.startswith(f"case.txt: not valid {kind.upper()}: "), problem
        return
    answer = outcome(data)
    if isinstance(answer, CaseError):
        assert_names_fields(answer, data)


@pytest.mark.parametrize(("text", "kind"), [
    ("[" * 5_000, "json"), ("[" * 5_000 + "]" * 5_000, "json"),
    ("[" * 5_000, "yaml"), ("a: " + "[" * 5_000 + "]" * 5_000, "yaml"),
    ("!!python/object/apply:os.system ['true']", "yaml"),
    ("a: &a [*a, *a, *a]\n" + "".join(f"b{n}: &b{n} [*a, *a]\n" for n in range(30)), "yaml"),
])
def test_deep_nesting_and_yaml_tricks_are_one_clear_error(text: str, kind: str,
                                                          tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"case.{kind}"
    path.write_text(text)
    with pytest.raises(CaseError) as raised:
        load_case(path)
    assert all(str(path) in p or FIELD_LINE.match(p) or p == WHOLE
               for p in raised.value.problems), raised.value.problems


@pytest.mark.parametrize(("key", "named"), [("", "['']"), ("[", "['[']"), ("a b", "['a b']"),
                                            ("k" * 500, "['" + "k" * 60 + "'...]")])
def test_an_odd_key_is_named_quoted_and_short(key: str, named: str) -> None:
    """Found by the tree property: an empty key, or one with `[`, gave a problem naming no
    field ("is not a field of the case format")."""
    with pytest.raises(CaseError) as raised:
        parse_case({**BASE, key: 1})
    assert raised.value.problems == [f"{named}: is not a field of the case format (check "
                                     "the spelling)"]


def test_a_wrong_choice_is_echoed_short() -> None:
    """Found by the bent-case property: a big tree where a word belongs was repeated whole."""
    with pytest.raises(CaseError) as raised:
        parse_case({**BASE, "exam": {**BASE["exam"], "provocation": {
            **BASE["exam"]["provocation"], "thigh_thrust": {str(n): "9" * 500 for n in range(9)}}}})
    [problem] = raised.value.problems
    assert problem.startswith("exam.provocation.thigh_thrust: got {") and len(problem) < 200


def test_the_counts_are_reported() -> None:
    """Runs last in this module: each property ran its examples."""
    report_counts("case loader examples", TRIED)
    assert all(TRIED.values()), TRIED

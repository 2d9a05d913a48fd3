"""Clinical words everywhere: every code of every vocabulary has one label, and no page of the
demo shows a raw code (snake_case), a field path or the stage text twice."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from pydantic import BaseModel

from sijcare.knowledge import KnowledgeError, load_knowledge
from sijcare.labels import inline, label, labels, parse, words
from sijcare.model.assessment import Assessment
from sijcare.model.case import Case
from sijcare.reports.pdf import episode_report, prior_auth_report
from sijcare.web.clinic.forms import record_forms
from tests.web.browsing import demo_world
from tests.web.conftest import World

RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
FIELD_PATH = re.compile(r"\b(?:patient|history|exam|imaging|blocks|procedures|proms|medications|"
                        r"conservative_care|allergies|provocation|tenderness|pain_areas)"
                        r"(?:\[\d+\])?\.[a-z_]+|\[\] if none")
# Citations carry their web addresses and the test world has usernames such as south_staff;
# neither is a code.
ADDRESS = re.compile(r"https?://\S+|\b[\w.-]+\.(?:com|org|gov|net|edu|au|uk|io)\b")


def _model_codes(model: type[BaseModel], seen: set[type]) -> set[str]:
    """Field names and Literal values of a model and the models inside it."""
    if model in seen:
        return set()
    seen.add(model)
    codes: set[str] = set()
    for name, info in model.model_fields.items():
        codes.add(name)
        stack = [info.annotation]
        while stack:
            hint = stack.pop()
            if typing.get_origin(hint) is typing.Literal:
                codes.update(v for v in typing.get_args(hint) if isinstance(v, str))
            elif isinstance(hint, type) and issubclass(hint, BaseModel):
                codes |= _model_codes(hint, seen)
            else:
                stack.extend(typing.get_args(hint))
    return codes


def vocabulary() -> set[str]:
    """Every code a clinician may meet: the case format, the knowledge base, the forms."""
    kb = load_knowledge()
    codes = _model_codes(Case, set()) - {"schema_version", "as_of", "id", "age",
                                         "birth_date", "minutes", "pain"}
    codes |= {"met", "not_met", "unknown", "not_covered", "confirmed", "equivocal",
              "incomplete", "present", "absent", "refer", "test_hla_b27", "urgent"}
    codes |= {t.id for t in kb.examination.provocation_tests}
    codes |= {c.id for c in kb.examination.pain_clues} | {kb.examination.kurosawa.id}
    codes |= {c.id for c in kb.examination.clusters}
    codes |= {f.id for f in kb.screening.red_flags} | {r.id for r in kb.screening.referrals}
    codes |= {s.id for s in kb.pathway.stages} | {d.id for d in kb.pathway.differential}
    codes |= set(type(kb.safety).model_fields) | {"red_flag"}
    for policy in kb.policies.values():
        for option in policy.options:
            codes |= {option.id} | {c.id for c in option.criteria}
    for form in record_forms().values():
        for field in form.fields():
            codes |= {value for value, _ in field.choices}
    return {c for c in codes if not c.startswith("__") and not c.isdigit()}


def test_every_code_of_every_vocabulary_has_a_label() -> None:
    missing = sorted(vocabulary() - set(labels()))
    assert not missing, f"codes without a label in knowledge/labels.yaml: {missing}"


def test_the_assessment_vocabulary_is_covered_too() -> None:
    """Every coded value the engine can answer with (stages, results, follow-up points)."""
    values: set[str] = set()
    for model in {Assessment, *_nested(Assessment)}:
        for info in model.model_fields.values():
            values |= _literals(info.annotation)
    # Severities read through presenters.SEVERITY_LABELS ("block" is also a record kind).
    missing = sorted(values - set(labels()) - {"1", "block", "warn", "info"})
    assert not missing, f"assessment values without a label: {missing}"


def _nested(model: type[BaseModel]) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    stack = [info.annotation for info in model.model_fields.values()]
    while stack:
        hint = stack.pop()
        if isinstance(hint, type) and issubclass(hint, BaseModel) and hint not in found:
            found.add(hint)
            stack.extend(info.annotation for info in hint.model_fields.values())
        else:
            stack.extend(typing.get_args(hint))
    return found


def _literals(hint: object) -> set[str]:
    if typing.get_origin(hint) is typing.Literal:
        return {str(v) for v in typing.get_args(hint)}
    return {v for arg in typing.get_args(hint) for v in _literals(arg)}


def test_a_code_labelled_twice_or_left_empty_fails_the_load() -> None:
    with pytest.raises(KnowledgeError, match=r"sides\.left: labelled twice"):
        parse("statuses: {left: Left}\nsides: {left: Left side}\n")
    with pytest.raises(KnowledgeError, match=r"sides\.left: the label is empty"):
        parse("sides: {left: ' '}\n")


def test_labels_read_as_clinical_words_inside_a_sentence() -> None:
    assert label("physical_therapy") == "Physiotherapy"
    assert inline("saddle_anesthesia") == "saddle anaesthesia"
    assert inline("mri") == "MRI"
    assert inline("gaenslen_left") == "Gaenslen (left)"


def test_words_turns_codes_into_labels_and_drops_field_paths() -> None:
    assert words("Record the red-flag screen (history.red_flags, [] if none).") == (
        "Record the red-flag screen.")
    assert words("red flag(s): saddle_anesthesia, bladder_dysfunction") == (
        "red flag(s): saddle anaesthesia, bladder dysfunction")
    assert words("Imaging: mri of the sij, no findings listed") == (
        "Imaging: MRI of the SI joint, no findings listed")
    assert words("the block on the left side") == "the block on the left side"
    assert words("at least 50% improvement (ngs_faq_siji)") == (
        "at least 50% improvement (NGS FAQ)")


class VisibleText(HTMLParser):
    """What a reader sees: text outside script/style/title, plus input values and options."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title", "template"):
            self._hidden += 1
        values = dict(attrs)
        # an <input>'s value is what it shows; a <button>'s value is sent, never shown
        if tag == "input" and values.get("type") not in ("hidden", "radio", "checkbox"):
            self.parts.append(values.get("value") or "")
        if values.get("placeholder"):
            self.parts.append(values["placeholder"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title", "template"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = demo_world(tmp_path_factory.mktemp("labels"))
    yield world
    world.engine.dispose()


def demo_pages(world: World) -> list[str]:
    """Every page and form of the demo a clinician opens, under both policies."""
    pages = ["/", "/patients", "/patients/new", "/patients?q=Demo"]
    pages += [f"/patients/{p}" for p in world.ids["demo_patients"]]
    for episode in world.ids["demo_episodes"]:
        for policy in load_knowledge().policies:
            pages += [f"/episodes/{episode}?policy={policy}",
                      f"/episodes/{episode}/note?policy={policy}"]
    first = world.ids["demo_episodes"][0]
    pages += [f"/episodes/{first}/records/{kind}" for kind in record_forms()]
    return pages


def problems_in(text: str) -> list[str]:
    text = ADDRESS.sub("", text).replace("south_clinician", "").replace("south_staff", "")
    return sorted(set(RAW_CODE.findall(text)) | set(FIELD_PATH.findall(text)))


def test_no_page_of_the_demo_shows_a_raw_code_or_a_field_path(demo: World) -> None:
    """As each role: the clinician's pages, staff's and admin's, and the sign-in page."""
    found: dict[str, list[str]] = {}
    visits = [("clinician", page) for page in demo_pages(demo)]
    visits += [("staff", "/patients"), ("staff", f"/patients/{demo.ids['demo_patients'][0]}"),
               ("staff", "/patients/new"), ("admin", "/admin/users"), ("researcher", "/")]
    clients = {role: demo.signed_in(role) for role in {role for role, _ in visits}}
    for role, page in visits:
        answer = clients[role].get(page)
        assert answer.status_code == 200, (role, page, answer.status_code)
        if problems := problems_in(visible(answer.text)):
            found[f"{role} {page}"] = problems
    login = demo.client().get("/login")
    if problems := problems_in(visible(login.text)):
        found["/login"] = problems
    assert not found, found


def test_no_reason_repeats_the_stage_text_word_for_word(demo: World) -> None:
    client = demo.signed_in("clinician")
    stages = load_knowledge().pathway.stages
    for episode in demo.ids["demo_episodes"]:
        text = visible(client.get(f"/episodes/{episode}").text)
        shown = [s for s in stages if s.text in text]
        assert len(shown) == 1, episode
        assert text.count(shown[0].text) == 1, f"episode {episode} repeats: {shown[0].text}"


def test_no_packet_or_episode_report_of_the_demo_shows_a_raw_code(demo: World) -> None:
    """Every option's prior-authorisation packet under each policy, and each episode report,
    as the HTML WeasyPrint lays out (test_safety_pages reads the PDFs themselves)."""
    found: dict[str, list[str]] = {}
    with demo.sessions() as db:
        for episode in demo.ids["demo_episodes"]:
            reports = {f"report {episode}": episode_report(db, episode)}
            for policy in load_knowledge().policies:
                for option in (o.id for o in load_knowledge().policies[policy].options):
                    reports[f"packet {episode} {policy} {option}"] = prior_auth_report(
                        db, episode, option, policy)
            for name, report in reports.items():
                if problems := problems_in(visible(report.html)):
                    found[name] = problems
    assert not found, found

"""The episode page leads with the decision: the summary band, the next step's checklist open
and the others folded, the urgent referral alone with a red flag, and honest wording."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from sijcare import decision
from sijcare.engine import assess
from sijcare.engine.likelihood import CLUSTER_ID
from sijcare.knowledge import load_knowledge
from sijcare.model.case import Case, Provocation
from sijcare.reports.pdf import prior_auth_report
from sijcare.store import add_record, create_episode
from sijcare.web.clinic.presenters import clue_count
from tests.web.conftest import TODAY, World

AS_OF = dt.date(2026, 6, 1)


def ago(days: int) -> str:
    return (AS_OF - dt.timedelta(days=days)).isoformat()


def case(**parts: object) -> Case:
    """A confirmed-block patient after conservative care; `parts` replace sections."""
    base: dict[str, object] = {
        "as_of": AS_OF.isoformat(), "patient": {"id": "p", "sex": "female", "pregnant": False},
        "history": {"pain_onset": ago(400), "side": "left", "below_l5": True,
                    "below_knee": False, "red_flags": [], "fortin_finger": True,
                    "generalized_pain_disorder": False},
        "conservative_care": [{"type": "physical_therapy", "start": ago(300),
                               "end": ago(200)}],
        "exam": {"provocation": {t: "positive" for t in (
            "distraction", "thigh_thrust", "compression", "sacral_thrust", "faber")},
            "neuro_deficit": False, "straight_leg_raise": "negative"},
        "imaging": [{"date": ago(250), "modality": "mri", "excludes_other_causes": True}],
        "blocks": [{"date": ago(150), "side": "left", "target": "intra_articular",
                    "guidance": "fluoroscopy", "pain_before": 8, "pain_after": 1}],
        "procedures": [], "allergies": [], "medications": {"anticoagulant": False},
    }
    return Case.model_validate(base | parts)


def views(c: Case, policy: str = "medicare") -> tuple[decision.OptionView, ...]:
    return decision.options(assess(c, policy=policy), c)


def criterion(c: Case, option: str, criterion_text: str,
              policy: str = "medicare") -> decision.CriterionView:
    view = next(v for v in views(c, policy) if v.id == option)
    return next(x for x in view.criteria if criterion_text in x.text)


def test_relief_still_ongoing_short_of_the_weeks_reads_pending_not_not_met() -> None:
    given = case(procedures=[{"date": ago(56), "kind": "steroid_injection", "side": "left",
                              "guidance": "fluoroscopy", "relief_percent": 70,
                              "relief_weeks": 8, "relief_ongoing": True}])
    shown = criterion(given, "therapeutic_sij_injection", "previous steroid injection")
    assert shown.status == "pending"
    assert shown.detail == "pending (relief ongoing at 8 weeks; decidable at 12)"


def test_relief_that_ended_short_reads_not_met() -> None:
    given = case(procedures=[{"date": ago(90), "kind": "steroid_injection", "side": "left",
                              "guidance": "fluoroscopy", "relief_percent": 70,
                              "relief_weeks": 8, "relief_ongoing": False}])
    shown = criterion(given, "therapeutic_sij_injection", "previous steroid injection")
    assert shown.status == "not_met"


def test_no_previous_injection_is_not_a_green_met() -> None:
    shown = criterion(case(), "therapeutic_sij_injection", "previous steroid injection")
    assert shown.status == "none_before"
    assert "no previous steroid injection" in shown.detail
    assert decision.STATUS_WORDS[shown.status] != "Met"


def test_a_repeat_block_after_a_negative_one_is_no_step_forward() -> None:
    negative = case(blocks=[{"date": ago(20), "side": "left", "target": "intra_articular",
                             "guidance": "fluoroscopy", "pain_before": 8, "pain_after": 7}])
    block = next(v for v in views(negative) if v.id == "diagnostic_sij_injection")
    assert assess(negative, policy="medicare").eligibility[
        "diagnostic_sij_injection"].status == "met"  # the engine allows a second block ...
    assert block.status == "caution"  # ... but the page does not show it as a step forward
    assert "negative" in block.reasons[0]


def test_the_next_steps_options_come_first_and_only_they_are_the_next_step() -> None:
    shown = views(case(), "clinic")
    stage = assess(case(), policy="clinic").stage
    assert stage == "interventional_treatment"
    nexts = [v.id for v in shown if v.next_step]
    assert nexts == list(decision.NEXT_OPTIONS[stage])
    assert [v.id for v in shown[:len(nexts)]] == nexts


def test_what_to_document_puts_the_red_flag_screen_first_without_field_paths() -> None:
    new = Case.model_validate({"as_of": AS_OF.isoformat(), "patient": {"id": "n"}})
    a = assess(new, policy="medicare")
    todo = decision.summary(a, new, decision.options(a, new)).document
    assert todo[0] == decision.RED_FLAG_SCREEN
    assert len(todo) == len(set(todo))
    assert sum("red-flag" in t for t in todo) == 1
    assert not any(re.search(r"\b[a-z]+_[a-z_]+\b|\w\.\w|\[\]", t) for t in todo), todo


def test_a_red_flag_asks_for_no_routine_documentation() -> None:
    urgent = case(history={"side": "left", "red_flags": ["saddle_anesthesia"]},
                  exam=None, conservative_care=None)
    a = assess(urgent, policy="medicare")
    band = decision.summary(a, urgent, decision.options(a, urgent))
    assert band.urgent and band.document == () and band.options == ()


def test_unknown_clues_are_never_counted_as_absent() -> None:
    bare = Case.model_validate({"as_of": AS_OF.isoformat(), "patient": {"id": "n"}})
    pattern = assess(bare, policy="medicare").pain_pattern
    assert clue_count(pattern) == f"Clues not recorded (all {len(pattern.clues)} unknown)"
    assert "0 of" not in clue_count(pattern)


class Sections(HTMLParser):
    """Text per id'd element of interest, and which option <details> are open."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.text: dict[str, str] = {}
        self.open_options: list[str] = []
        self.folded_options: list[str] = []
        self.in_after_urgent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("br", "input", "meta", "link", "img"):
            return
        self.stack.append(values.get("id"))
        classes = (values.get("class") or "").split()
        if tag == "details" and "option" in classes:
            where = self.open_options if "open" in values else self.folded_options
            where.append(values.get("id") or "")
        if tag == "details" and "after-urgent" in classes:
            self.in_after_urgent += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "input", "meta", "link", "img") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            if element:
                self.text[element] = self.text.get(element, "") + data


def sections(html: str) -> Sections:
    parsed = Sections()
    parsed.feed(html)
    return parsed


@pytest.fixture(scope="module")
def episodes(world: World, clinician: TestClient) -> dict[str, int]:
    """A new episode, a confirmed-block one and a red-flag one, recorded through the API."""
    made = {}
    for name, records in {
        "new": [],
        "confirmed": [("intake", {"pain_onset": "2025-01-01", "side": "left",
                                  "below_l5": True, "below_knee": False, "red_flags": []}),
                      ("care_course", {"type": "physical_therapy", "start": "2025-02-01",
                                       "end": "2025-06-01"}),
                      ("exam", {"provocation": {t: "positive" for t in (
                          "distraction", "thigh_thrust", "compression")}}),
                      ("block", {"date": "2025-07-01", "guidance": "fluoroscopy",
                                 "side": "left", "target": "intra_articular",
                                 "diary": [{"minutes": 0, "pain": 8},
                                           {"minutes": 30, "pain": 1}]})],
        "red_flag": [("intake", {"side": "left", "red_flags": ["saddle_anesthesia"]})],
    }.items():
        patient = clinician.post("/api/v1/patients", json={
            "given_name": name.title(), "family_name": "Band", "birth_date": "1970-01-01",
            "sex": "male"}).json()
        episode = clinician.post(f"/api/v1/patients/{patient['id']}/episodes", json={
            "complaint": "Buttock pain", "opened_on": "2024-12-01"}).json()["id"]
        for kind, data in records:
            answer = clinician.post(f"/api/v1/episodes/{episode}/records/{kind}",
                                    json={"recorded_on": "2025-08-01", "data": data})
            assert answer.status_code == 201, answer.text
        made[name] = episode
    return made


def test_the_summary_band_shows_stage_why_next_step_what_to_document_and_sign(
        clinician: TestClient, episodes: dict[str, int]) -> None:
    html = clinician.get(f"/episodes/{episodes['confirmed']}", params={"policy": "clinic"}).text
    page = sections(html)
    band = page.text["summary"]
    assert "Interventional treatment" in band and "Block confirmed" in band
    assert "Therapeutic SIJ steroid injection" in page.text["next-step"]
    assert "What to document next" in page.text["document-next"]
    assert html.index('id="summary"') < html.index("Sign this assessment") < html.index(
        'id="record-heading"') < html.index('id="assessment-heading"') < html.index(
        'id="timeline"')
    assert set(page.open_options) == {f"option-{o}" for o in
                                      decision.NEXT_OPTIONS["interventional_treatment"]}
    assert "option-mis_sij_fusion" in page.folded_options


def test_a_new_episode_asks_for_the_red_flag_screen_first(
        clinician: TestClient, episodes: dict[str, int]) -> None:
    page = sections(clinician.get(f"/episodes/{episodes['new']}").text)
    todo = page.text["document-next"]
    assert todo.index("red-flag screen") < min(
        (todo.index(w) for w in ("Record", "Perform") if w in todo[todo.index("screen"):]),
        default=len(todo))
    assert "history." not in todo and "[] if none" not in todo


def test_a_red_flag_episode_shows_only_the_urgent_referral_first(
        clinician: TestClient, episodes: dict[str, int]) -> None:
    html = clinician.get(f"/episodes/{episodes['red_flag']}").text
    page = sections(html)
    band = page.text["summary"]
    assert "Urgent referral" in band and "Saddle anaesthesia" in band
    assert "document-next" not in page.text and "next-step" not in page.text
    assert not page.open_options  # every option folded ...
    assert page.in_after_urgent == 1  # ... under "after the urgent work-up"
    detail = html[html.index('class="after-urgent"'):]
    assert "Eligibility under" in detail and "Work-up" in detail


def test_the_page_shows_courses_follow_up_evidence_and_pgic(
        clinician: TestClient, episodes: dict[str, int]) -> None:
    """The v2 assessment fields: a prolotherapy series, its follow-up points, each option's
    guideline positions and the latest global impression of change."""
    episode = episodes["confirmed"]
    for data in ({"date": "2025-08-01", "kind": "prolotherapy", "side": "left",
                  "guidance": "ultrasound", "relief_percent": 40},
                 {"date": "2025-08-01", "instrument": "pgic", "value": 2}):
        kind = "procedure" if "kind" in data else "prom"
        answer = clinician.post(f"/api/v1/episodes/{episode}/records/{kind}",
                                json={"recorded_on": "2025-08-01", "data": data})
        assert answer.status_code == 201, answer.text
    html = clinician.get(f"/episodes/{episode}",
                         params={"policy": "clinic", "as_of": "2025-08-20"}).text
    text = sections(html).text
    courses = html[html.index("Treatment courses"):html.index("Follow-up schedule")]
    assert "Prolotherapy" in courses and "series started 2025-08-01" in courses
    schedule = html[html.index("Follow-up schedule"):html.index("Outcomes")]
    assert "2 weeks after prolotherapy" in schedule and "2025-08-15" in schedule
    assert "Global impression of change 2 of 7 on 2025-08-01: responder" in html
    assert html.count('class="evidence"') == 5  # every option carries its guideline positions
    assert "Follow-up due" in text["summary"]  # the 2-week point is due on the 20th


def test_an_option_stopped_for_safety_asks_for_no_documentation() -> None:
    """A local-anaesthetic allergy stops the injection: recording earlier procedures for it
    would only read as the way forward."""
    allergic = case(allergies=["local_anesthetic"], procedures=None)
    a = assess(allergic, policy="medicare")
    shown = decision.options(a, allergic)
    injection = next(v for v in shown if v.id == "therapeutic_sij_injection")
    # the stop with its finding (issue 19: "reads as stopped, with the reason")
    assert injection.stops == ("No local-anaesthetic allergy: local-anesthetic allergy recorded",)
    assert injection.status == "stopped"
    assert injection.stopped == f"Stopped for safety: {injection.stops[0]}"
    assert any(c.document for c in injection.criteria)  # it has gaps ...
    band = decision.summary(a, allergic, shown)
    assert band.document == () and band.closed  # ... that the band does not ask for


def test_the_band_shows_what_stops_the_steps_option_and_an_earlier_fusion() -> None:
    """ENGINE-RULES v3: the stage reasons `option_stopped` (the option the stage points to,
    and why it cannot go ahead) and `prior_fusion` show beside the stage's own why."""
    fused = case(procedures=[{"date": ago(120), "kind": "mis_fusion", "side": "left",
                              "guidance": "fluoroscopy"}])
    a = assess(fused, policy="medicare")
    assert a.stage == "interventional_treatment"
    band = decision.summary(a, fused, decision.options(a, fused))
    assert [n for n in band.notes if "fusion of this joint is recorded" in n], band.notes
    assert band.notes == tuple(r.text for r in a.stage_reasons if r.rule == "prior_fusion")
    unblocked = case(blocks=None)  # the block is the next step; nobody recorded any
    a = assess(unblocked, policy="medicare")
    band = decision.summary(a, unblocked, decision.options(a, unblocked))
    assert a.stage == "diagnostic_block"
    [note] = band.notes
    assert note.startswith("Diagnostic SIJ block cannot go ahead yet")
    assert "Fewer than 2 image-guided diagnostic blocks" in note
    assert band.why and band.why not in note


def test_the_engine_says_none_before_and_the_packet_never_marks_it_met(
        world: World, clinician: TestClient) -> None:
    """Issue 22, item 9: with no earlier injection the engine's criterion carries
    `none_before` (a first treatment), and the prior-authorisation packet reads "None before",
    never "Met" beside "a previous injection gave relief"."""
    result = assess(case(), policy="clinic")
    first = next(c for c in result.eligibility["therapeutic_sij_injection"].criteria
                 if c.id == "repeat_response")
    assert (first.status, first.none_before) == ("met", True)
    given = case(procedures=[{"date": ago(200), "kind": "steroid_injection", "side": "left",
                              "guidance": "fluoroscopy", "relief_percent": 70,
                              "relief_weeks": 14, "relief_ongoing": False}])
    repeat = next(c for c in assess(given, policy="clinic").eligibility[
        "therapeutic_sij_injection"].criteria if c.id == "repeat_response")
    assert (repeat.status, repeat.none_before) == ("met", False)

    with world.sessions() as db:
        episode = create_episode(db, world.ids["patient"], {
            "complaint": "No injection yet", "opened_on": TODAY.isoformat()},
            world.ids["clinician"])
        add_record(db, episode.id, "procedure", {"none": True}, world.ids["clinician"], TODAY)
        db.commit()
        packet = prior_auth_report(db, episode.id, "therapeutic_sij_injection", "clinic").html
    row = re.search(r"<tr>\s*<td>A previous steroid injection gave(?:(?!</tr>).)*</tr>",
                    packet, re.S)
    assert row is not None
    assert "None before (a first treatment)" in row.group(0) and ">Met<" not in row.group(0)


@pytest.mark.parametrize(("percent", "weeks", "said"), [
    (None, None, "relief not recorded (needs"),
    (60, None, "relief 60%, how long not recorded"),
    (None, 8, "relief for 8 weeks, how much not recorded"),
    (60, 14, "relief 60% for 14 weeks")])
def test_unrecorded_relief_is_said_once(percent: float | None, weeks: float | None,
                                        said: str) -> None:
    given = case(procedures=[{"date": ago(200), "kind": "steroid_injection", "side": "left",
                              "guidance": "fluoroscopy", "relief_percent": percent,
                              "relief_weeks": weeks}])
    shown = criterion(given, "therapeutic_sij_injection", "previous steroid injection")
    assert said in shown.detail and "for not recorded" not in shown.detail


# Positive, negative and not performed (absent), so that the whole examination, the cluster
# and each payer's list count differently: 4 positive of 6 performed (2 not), 3 of 5 (1 not)
# for the cluster, and Gaenslen's two sides as one test on the payers' lists.
MIXED = {"distraction": "positive", "thigh_thrust": "positive", "compression": "negative",
         "gaenslen_left": "positive", "gaenslen_right": "negative", "faber": "positive"}
COUNT = re.compile(r"(\d+) positive of (\d+) performed(?:, (\d+) not performed)?")


def _expected(tests: list[str]) -> str:
    """The count of `tests` in MIXED, worked out here by hand ("gaenslen": either side)."""
    def result(test: str) -> str | None:
        if test == "gaenslen":
            sides = {MIXED.get("gaenslen_left"), MIXED.get("gaenslen_right")}
            return "positive" if "positive" in sides else next(iter(sides - {None}), None)
        return MIXED.get(test)

    results = [result(t) for t in tests]
    positive, missing = results.count("positive"), results.count(None)
    said = f"{positive} positive of {len(tests) - missing} performed"
    return f"{said}, {missing} not performed" if missing else said


@pytest.mark.parametrize("policy", ["medicare", "clinic"])
def test_every_provocation_count_on_the_page_is_positive_of_performed(
        policy: str, world: World, clinician: TestClient) -> None:
    """The timeline's examination, the cluster card and the payers' criteria each count
    their own tests, one way: positive of performed, the not performed said apart."""
    kb = load_knowledge()
    with world.sessions() as db:
        episode = create_episode(db, world.ids["patient"], {
            "complaint": "Mixed provocation", "opened_on": TODAY.isoformat()},
            world.ids["clinician"])
        add_record(db, episode.id, "exam", {"provocation": MIXED}, world.ids["clinician"],
                   TODAY)
        db.commit()
    page = clinician.get(f"/episodes/{episode.id}", params={"policy": policy}).text
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    cluster = next(c for c in kb.examination.clusters if c.id == CLUSTER_ID)
    listed = {c.text: _expected(c.params["tests"])
              for option in kb.policies[policy].options for c in option.criteria
              if c.check == "provocation_count"}
    timeline = _expected(list(Provocation.model_fields))
    assert (timeline, _expected(cluster.tests)) == ("4 positive of 6 performed, 2 not performed",
                                                    "3 positive of 5 performed, 1 not performed")
    assert f"Examination: provocation tests {timeline}" in text
    assert f"Provocation cluster Positive: {_expected(cluster.tests)}." in text
    for criterion, count in listed.items():
        assert f"{criterion} : {count}" in text, criterion
    found = {match.group(0) for match in COUNT.finditer(text)}
    assert found == {timeline, _expected(cluster.tests), *listed.values()}
    for other in (r"\d+ of \d+ (?:performed )?(?:cluster |provocation )?tests",
                  r"listed tests", r"positive of \d+(?! performed)"):
        assert not re.search(other, text), other  # no count of another kind on the page

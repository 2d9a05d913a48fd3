"""Every surface says a stop is a stop (issue 19, ENGINE-RULES v3 "safety before availability").

An option `not_met` through a safety criterion reads "Stopped for safety" with the criterion
and its finding on the episode page (the band's next step and the option's fold), in the
visit note, in the prior-authorisation packet (HTML and the PDF's text), in the text report
and in the API's JSON; never "met" and never "review first". The stops followed: a pregnancy
(every covered option), a corticosteroid allergy (the steroid injection) and an anticoagulant
without a plan (fusion under both policies, ablation where covered). An unknown safety fact
(pregnancy not recorded, the anticoagulation plan not documented) is the first thing to
document: in the band, in each checklist, in the packet and in the engine's `missing`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sijcare.engine import assess
from sijcare.knowledge import load_knowledge
from sijcare.labels import words
from sijcare.reports.pdf import prior_auth_report
from sijcare.reports.text import render_plain
from sijcare.store import case_as_of
from tests.web.conftest import World, build_world
from tests.web.safety_cases import TODAY, make_episodes
from tests.web.test_labels import visible
from tests.web.test_safety_pages import pdf_text, signed_page

KB = load_knowledge()
POLICIES = tuple(KB.policies)
COVERED = [(o.id, p.id) for p in KB.policies.values() for o in p.options if o.covered]
NAMES = {o.id: o.name for p in KB.policies.values() for o in p.options}
PLAN = "No anticoagulant, or a documented peri-procedural anticoagulation plan"
# (case, option, policy, the text of the criterion that stops it)
STOPPED = [
    *(("pregnant", o, p, "Not pregnant") for o, p in COVERED),
    *(("steroid_allergy", "therapeutic_sij_injection", p, "No corticosteroid allergy")
      for p in POLICIES),
    *(("anticoagulated", "mis_sij_fusion", p, PLAN) for p in POLICIES),
    ("anticoagulated", "sij_rfa", "clinic", PLAN),
]
STOPPED_IDS = [f"{c}-{o}-{p}" for c, o, p, _ in STOPPED]
# (case, policy, option, what must be documented first, what comes after it)
ASK_FIRST = [
    ("ask_first", p, "diagnostic_sij_injection", "Ask about and record pregnancy.",
     "Record imaging and whether it excludes other causes.") for p in POLICIES
] + [("plan_unknown", "clinic", "sij_rfa",
      "Document the anticoagulation plan (hold or bridge, agreed with the prescriber).",
      "Record when the pain began.")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("stops"))
    built.ids.update({f"case:{k}": v for k, v in make_episodes(built).items()})
    yield built
    built.engine.dispose()


@pytest.fixture(scope="module")
def clinician(world: World) -> TestClient:
    return world.signed_in("clinician")


def get(client: TestClient, world: World, case: str, policy: str, tail: str = "",
        **params: str) -> str:
    answer = client.get(f"/episodes/{world.ids['case:' + case]}{tail}",
                        params={"policy": policy, **params})
    assert answer.status_code == 200, answer.text[:500]
    return answer.text


def one_line(text: str) -> str:
    return " ".join(text.split())


def fold_of(html: str, option: str) -> str:
    """The option's fold on the page: up to the next option's (folds hold their own sources'
    folds, so no single pattern finds the end)."""
    start = html.index(f'<details class="option" id="option-{option}"')
    ends = [i for i in (html.find('<details class="option"', start + 1),
                        html.find("<h3>", start)) if i > 0]
    return html[start:min(ends)]


def stop_words(criterion: str) -> str:
    return f"Stopped for safety: {criterion}"


@pytest.mark.parametrize(("case", "option", "policy", "criterion"), STOPPED, ids=STOPPED_IDS)
def test_the_episode_page_says_stopped_with_the_reason(
        clinician: TestClient, world: World, case: str, option: str, policy: str,
        criterion: str) -> None:
    html = get(clinician, world, case, policy)
    fold = fold_of(html, option)
    assert re.search(r'^[^>]*>\s*<summary><span class="status stopped">Stopped for safety'
                     r'</span>', fold), fold[:300]
    shown = one_line(visible(fold))
    assert stop_words(criterion) in shown and "Review first" not in shown
    listed = re.search(rf'<li><span class="status (\w+)">[^<]*</span> <a href="#option-{option}"'
                       r'>[^<]*</a>(.*?)</li>', html, re.S)
    if listed:  # the option is the next step: the band says it too, with what stops it
        assert listed.group(1) == "stopped" and criterion in listed.group(2)


@pytest.mark.parametrize(("case", "option", "policy", "criterion"), STOPPED, ids=STOPPED_IDS)
def test_the_visit_note_says_stopped_with_the_reason(
        clinician: TestClient, world: World, case: str, option: str, policy: str,
        criterion: str) -> None:
    note = get(clinician, world, case, policy, "/note")
    statuses = dict(re.findall(r"<h3>([^<:]+): ([a-z ,]+)</h3>", note))
    assert statuses, "no option in the note"
    if NAMES[option] in statuses:  # the next step: its checklist opens on the stop
        assert statuses[NAMES[option]] == "stopped for safety", statuses
        after = note[note.index(f"<h3>{NAMES[option]}: "):]
        first = re.search(r'<li><span class="mark">([^<]+)</span> ([^<]*)</li>', after)
        assert first.group(1) == "Not met" and first.group(2).startswith(criterion)


@pytest.mark.parametrize(("case", "option", "policy", "criterion"), STOPPED, ids=STOPPED_IDS)
def test_the_packet_says_stopped_in_html_and_pdf(
        clinician: TestClient, world: World, case: str, option: str, policy: str,
        criterion: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    with world.sessions() as db:
        html = prior_auth_report(db, world.ids[f"case:{case}"], option, policy, TODAY).html
    shown = one_line(visible(html))
    assert shown.index("Not supported: a safety criterion is not met") < shown.index("Patient")
    assert f"Overall {stop_words(criterion)}" in shown
    assert "Review first" not in shown and not re.search(r"Overall Met\b", shown)
    first = re.search(r"<tbody>\s*<tr>\s*<td>([^<]*)</td>\s*<td class=\"(\w+)\">([^<]*)</td>",
                      html.split("<h2>Criteria</h2>", 1)[1])
    assert first.group(1).startswith(criterion) and first.group(3) == "Not met (safety stop)"
    pdf = clinician.get(f"/episodes/{world.ids['case:' + case]}/prior-auth.pdf", params={
        "option": option, "policy": policy, "as_of": TODAY.isoformat()})
    text = one_line(pdf_text(pdf.content, tmp_path_factory))
    assert text.index("Not supported: a safety criterion is not met") < text.index("Patient")
    assert "Stopped for safety" in text and "Review first" not in text


@pytest.mark.parametrize(("case", "option", "policy", "criterion"), STOPPED, ids=STOPPED_IDS)
def test_the_text_report_says_safety_stop_with_the_reason(
        world: World, case: str, option: str, policy: str, criterion: str) -> None:
    with world.sessions() as db:
        case_ = case_as_of(db, world.ids[f"case:{case}"], TODAY)
    report = render_plain(assess(case_, policy=policy), KB)
    row = next(line for line in report.splitlines()
               if line.startswith(f"  {NAMES[option]}  "))
    assert re.search(r"\s NOT MET \(SAFETY STOP\) ", row), row
    assert stop_words(criterion) in row and "REVIEW FIRST" not in row
    assert re.search(rf"{re.escape(NAMES[option])} / {re.escape(criterion)}[^:]*: NOT MET "
                     r"\(SAFETY STOP\)", report)


@pytest.mark.parametrize(("case", "option", "policy", "criterion"), STOPPED, ids=STOPPED_IDS)
def test_the_api_answers_not_met_stopped_by_the_criterion(
        clinician: TestClient, world: World, case: str, option: str, policy: str,
        criterion: str) -> None:
    answer = clinician.get(f"/api/v1/episodes/{world.ids['case:' + case]}/assessment",
                           params={"policy": policy})
    assert answer.status_code == 200
    result = answer.json()["eligibility"][option]
    stops = [c for c in result["criteria"] if c["id"] in result["stopped_by"]]
    assert result["status"] == "not_met"
    assert [c["text"] for c in stops if c["text"].startswith(criterion)], result["stopped_by"]
    assert all(c["status"] == "not_met" and c["safety"] for c in stops)
    assert f"Stopped for safety: {criterion}" in result["reasons"][0]["text"]


@pytest.mark.parametrize(("case", "policy", "option", "first", "then"), ASK_FIRST,
                         ids=[f"{c}-{p}" for c, p, *_ in ASK_FIRST])
def test_an_unknown_safety_fact_is_the_first_thing_to_document(
        clinician: TestClient, world: World, case: str, policy: str, option: str, first: str,
        then: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    html = get(clinician, world, case, policy)
    band = re.search(r'<div class="document-next" id="document-next">.*?<ul>(.*?)</ul>', html,
                     re.S).group(1)
    lines = re.findall(r"<li>([^<]*)</li>", band)
    assert lines[0] == first and then in lines, lines  # the red-flag screen is recorded
    fold = fold_of(html, option)
    documents = [d.strip() for d in re.findall(r"<em>Document:</em> ([^<]*)", fold)]
    assert documents[0] == first and then in documents, documents
    answer = clinician.get(f"/api/v1/episodes/{world.ids['case:' + case]}/assessment",
                           params={"policy": policy}).json()
    missing = [words(m) for m in answer["eligibility"][option]["missing"]]
    assert missing[0] == first and then in missing, missing
    with world.sessions() as db:
        packet = prior_auth_report(db, world.ids[f"case:{case}"], option, policy, TODAY).html
    shown = one_line(visible(packet))
    assert shown.index("Not ready to send: a safety fact is not yet recorded") < \
        shown.index("Patient")
    to_document = re.findall(r"<li>To document: ([^<]*)</li>", packet)
    assert to_document[0] == first and then in to_document, to_document
    note = one_line(visible(get(clinician, world, case, policy, "/note")))
    still = note.split("Still to document", 1)[1]
    assert still.strip().startswith(first), still[:200]
    with world.sessions() as db:
        case_ = case_as_of(db, world.ids[f"case:{case}"], TODAY)
    row = next(line for line in render_plain(assess(case_, policy=policy), KB).splitlines()
               if line.startswith(f"  {NAMES[option]}  "))
    assert row.index(first) < row.index(then), row


@pytest.mark.parametrize("policy", POLICIES)
def test_a_signed_copy_says_stopped_as_the_page_did(clinician: TestClient, world: World,
                                                    policy: str) -> None:
    html = signed_page(clinician, world, "pregnant", policy)
    options = re.search(r"<h2>Options</h2>\s*<ul>(.*?)</ul>", html, re.S).group(1)
    lines = re.findall(r"<li>([^<]*)</li>", options)
    covered = [NAMES[o] for o, p in COVERED if p == policy]
    stopped = [line.split(":")[0] for line in lines
               if ": Stopped for safety (Not pregnant (" in line]
    assert sorted(stopped) == sorted(covered), lines
    assert not [line for line in lines if re.search(r": (Met|Review first)", line)]


def test_the_fhir_export_and_the_signed_pdf_say_stopped(
        clinician: TestClient, world: World, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The signed assessment's PDF (attached to its DocumentReference) and the
    ServiceRequest's notes of the FHIR export word a stop as every page does."""
    signed_page(clinician, world, "pregnant", "medicare")
    episode = world.ids["case:pregnant"]
    patient = clinician.get(f"/api/v1/episodes/{episode}").json()["patient_id"]
    answer = clinician.get(f"/fhir/Patient/{patient}/$everything")
    assert answer.status_code == 200, answer.text[:300]
    resources = [e["resource"] for e in answer.json()["entry"]]
    [request] = [r for r in resources if r["resourceType"] == "ServiceRequest"]
    notes = [n["text"] for n in request["note"]]
    assert notes == ["Therapeutic SI-joint steroid injection: Stopped for safety (Not pregnant "
                     "(asked whenever the patient could be pregnant))",
                     "SI-joint radiofrequency ablation: Not covered",
                     "Regenerative injection: Not covered"], notes
    with world.sessions() as db:
        from sijcare.reports.pdf import signed_report
        from sijcare.store import SignedAssessment
        from sijcare.store.models import Patient

        signed = db.query(SignedAssessment).filter_by(episode_id=episode).first()
        report = signed_report(signed, db.get(Patient, patient), "clinician")
    text = one_line(pdf_text(report.pdf, tmp_path_factory))
    options = text.split("Options", 1)[1]
    assert "Stopped for safety (Not pregnant" in options and " Met " not in f"{options} "

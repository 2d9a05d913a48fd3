"""The FHIR REST API (`/fhir`) under hostile reads and searches: hypothesis-made ids (real
ones of either clinic, numbers out of range, text, encodings), search values (`system|code`
halves, long, odd characters, SQL), unknown parameters and methods, for a clinician of each
clinic, staff and an anonymous visitor. Never a 5xx; always `application/fhir+json` with a
resource (an OperationOutcome for every refusal); and never another clinic's patient."""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from sijcare.web.fhir.outcomes import ISSUE_CODES
from tests.fuzzing import examples, fuzzing, report_counts
from tests.mutations import ODD_TEXT
from tests.web.conftest import World

ANSWERS: Counter[str] = Counter()
READS = {"Patient", "Bundle", "Questionnaire", "CodeSystem", "CapabilityStatement"}
odd = (st.text(max_size=30) | st.sampled_from(ODD_TEXT)
       | st.sampled_from(["' OR 1=1 --", "1; DROP TABLE patients", "%00", "../metadata",
                          "patient-1", "patient-", "|", "a|", "|b", "x|y|z", "odi", "psfs",
                          "sijcare", "\u0000", "N-1", "S-1"]))
numbers = st.integers(-(2**40), 2**40).map(str)


def enc(text: str) -> str:
    """Percent-encoded UTF-8, lone surrogates as the bytes a careless client would send."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def requests(world: World) -> st.SearchStrategy[tuple[str, str, dict[str, str]]]:
    """(method, path, query) over every /fhir read and search, bent."""
    ids = (st.sampled_from([str(world.ids["patient"]), str(world.ids["south_patient"])])
           | numbers | odd)
    params = st.dictionaries(st.sampled_from(["identifier", "patient", "code", "_format",
                                              "_count", "_id", "subject", "_summary"]),
                             ids | odd, max_size=3)
    paths = (ids.map(lambda i: f"/fhir/Patient/{enc(i)}")
             | ids.map(lambda i: f"/fhir/Patient/{enc(i)}/$everything")
             | st.sampled_from(["/fhir/Patient", "/fhir/Observation", "/fhir/Questionnaire",
                                "/fhir/CodeSystem/sijcare", "/fhir/metadata", "/fhir",
                                "/fhir/Encounter", "/fhir/Patient/"])
             | odd.map(lambda q: f"/fhir/Questionnaire/{enc(q)}")
             | odd.map(lambda r: f"/fhir/{enc(r)}/1"))
    methods = st.sampled_from(["GET"] * 8 + ["HEAD", "POST", "PUT", "DELETE"])
    north = str(world.ids["patient"])
    plausible = st.sampled_from([  # what a FHIR client would send, to reach the 200s
        ("/fhir/Patient", {"identifier": "N-1"}), ("/fhir/Patient", {"identifier": "S-1"}),
        (f"/fhir/Patient/{north}", {}), (f"/fhir/Patient/{north}/$everything", {}),
        ("/fhir/Observation", {"patient": north}), ("/fhir/Questionnaire/odi", {}),
        ("/fhir/Observation", {"patient": north, "code": "http://loinc.org|72514-3"}),
        ("/fhir/Questionnaire", {}), ("/fhir/CodeSystem/sijcare", {})])
    return (st.tuples(methods, paths, params)
            | st.tuples(st.just("GET"), plausible).map(lambda r: (r[0], *r[1])))


@pytest.fixture(scope="module")
def visitors(world: World, clients: dict[str, TestClient],
             world_client: TestClient) -> dict[str, TestClient]:
    from sijcare.store import create_patient

    with world.sessions() as db:  # a patient of the other clinic, never to be seen from north
        south = create_patient(db, world.ids["south"], {
            "given_name": "Sam", "family_name": "South", "birth_date": "1966-06-06",
            "sex": "male", "external_id": "S-1"}, world.ids["south_clinician"])
        db.commit()
        world.ids["south_patient"] = south.id
    return {"clinician": clients["clinician"], "south_clinician": clients["south_clinician"],
            "staff": clients["staff"], "anonymous": world_client}


def _patients_in(body: dict) -> set[str]:
    """The ids of the Patients an answer shows (itself, or a Bundle's entries)."""
    resources = [e.get("resource", {}) for e in body.get("entry", [])] or [body]
    return {r["id"] for r in resources if r.get("resourceType") == "Patient"}


def test_no_fhir_read_or_search_fails_or_crosses_clinics(world: World,
                                                         visitors: dict[str, TestClient]):
    north, south = str(world.ids["patient"]), str(world.ids["south_patient"])
    own = {"clinician": north, "south_clinician": south}

    @fuzzing(200)
    @given(request=requests(world), visitor=st.sampled_from(list(visitors)))
    def answers_as_fhir(request: tuple[str, str, dict[str, str]], visitor: str) -> None:
        method, path, query = request
        url = path + ("?" + "&".join(f"{k}={enc(v)}" for k, v in query.items())
                      if query else "")
        answer = visitors[visitor].request(method, url, follow_redirects=False)
        ANSWERS[visitor] += 1
        ANSWERS[str(answer.status_code)] += 1
        assert answer.status_code < 500, (method, url, answer.text[:300])
        if method == "HEAD" or answer.status_code in (301, 302, 307, 308):
            return
        assert answer.headers["content-type"].startswith("application/fhir+json"), (
            method, path, answer.status_code, answer.text[:200])
        body = answer.json()
        if answer.status_code == 200:
            assert body["resourceType"] in READS, body["resourceType"]
            assert _patients_in(body) <= ({own[visitor]} if visitor in own else set()), (
                visitor, url)
        else:
            assert body["resourceType"] == "OperationOutcome", body
            [issue] = body["issue"]
            assert issue["severity"] == "error" and issue["diagnostics"]
            assert issue["code"] in {*ISSUE_CODES.values(), "processing"}

    answers_as_fhir()
    total = sum(ANSWERS[v] for v in visitors)
    report_counts("fhir rest requests", {"requests": total, **ANSWERS})
    assert total >= examples(200) and ANSWERS["200"] and ANSWERS["404"], dict(ANSWERS)

"""The CDS Hooks request parser under hostile input: real hook requests (patient-view,
order-select, order-sign on the demo patients) bent one to four places at a time, prefetch
values of the wrong type (a number, a list, text, null, an OperationOutcome, a Bundle of junk
entries, a resource of the wrong kind), random JSON trees and broken bodies, each with a valid
token. Never a 5xx: a spec-shaped answer (`cards`, each card conforming) or a 400/412 with a
`detail` that says why. Missing prefetch is fetched only from a local server (no network)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sijcare.web.cds_hooks.prefetch import TEMPLATES
from tests.cds_hooks.conformance import check_response
from tests.cds_hooks.conftest import Hooks
from tests.cds_hooks.fhir_server import FhirServer
from tests.cds_hooks.test_hooks import _order
from tests.fuzzing import examples, fuzzing, report_counts
from tests.mutations import ODD_TEXT, bent, trees

PATHS = {"patient-view": "/cds-services/sijcare-patient-view",
         "order-select": "/cds-services/sijcare-order-select",
         "order-sign": "/cds-services/sijcare-order-sign"}
ANSWERS: Counter[str] = Counter()

junk_resources = st.sampled_from([
    {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]},
    {"resourceType": "OperationOutcome"},
    {"resourceType": "Bundle", "type": "searchset", "entry": None},
    {"resourceType": "Bundle", "type": "searchset", "entry": [None, 3, "x", {"resource": []},
                                                               {"resource": {}}]},
    {"resourceType": "Bundle", "entry": {"resource": {"resourceType": "Patient"}}},
    {"resourceType": "Patient", "birthDate": 1970, "gender": ["female"], "name": "Ada"},
    {"resourceType": "Condition", "code": {"coding": None}, "onsetDateTime": "yesterday"},
    {"resourceType": "Observation", "valueQuantity": {"value": "many"}, "code": 7},
    {"resourceType": "ServiceRequest", "code": {"coding": [{"system": None, "code": {}}]}},
    {"resourceType": None}, {"resourceType": 12}, {},
]).map(copy.deepcopy)  # a fresh copy: bending changes what it is given
prefetch_values = (st.none() | st.integers() | st.text(max_size=10) | st.sampled_from(ODD_TEXT)
                   | st.lists(st.integers(), max_size=3) | junk_resources | trees())


@pytest.fixture(scope="module")
def seeds(hooks: Hooks) -> list[dict[str, Any]]:
    """Valid requests of each hook; one names a local FHIR server that answers nothing, so
    a prefetch key the bending drops is asked of it (and answers 412)."""
    silent = FhirServer()
    silent.close()
    view = hooks.request("patient-view", hooks.patients["demo-02"])
    fetching = {**hooks.request("patient-view", hooks.patients["demo-05"]),
                "fhirServer": hooks.keyserver.url}  # live, local: 404 for every query
    gone = {**hooks.request("patient-view", hooks.patients["demo-03"]),
            "fhirServer": silent.url, "fhirAuthorization": {
                "access_token": "t", "token_type": "Bearer", "expires_in": 300}}
    sign = hooks.request("order-sign", hooks.patients["demo-04"], draftOrders=_order("27096"))
    select = hooks.request("order-select", hooks.patients["demo-06"],
                           draftOrders=_order("64625", "rfa-1"),
                           selections=["ServiceRequest/rfa-1"])
    return [view, fetching, gone, sign, select]


@st.composite
def wrong_prefetch(draw: st.DrawFn, seed: dict[str, Any]) -> dict[str, Any]:
    """`seed` with some prefetch values replaced by values of the wrong type, and some keys
    left out (asked of the seed's local server, if it names one)."""
    request = json.loads(json.dumps(seed))
    for key in draw(st.lists(st.sampled_from(list(TEMPLATES)), min_size=1, max_size=4)):
        request["prefetch"][key] = draw(prefetch_values)
    for key in draw(st.lists(st.sampled_from(list(TEMPLATES)), max_size=2)):
        request["prefetch"].pop(key, None)
    return request


def sent(seeds: list[dict[str, Any]]) -> st.SearchStrategy[tuple[str, bytes]]:
    """(the hook's path, the body): bent requests, wrong prefetch, trees, broken text."""
    def as_json(request: Any) -> tuple[str, bytes]:
        hook = request.get("hook") if isinstance(request, dict) else None
        path = PATHS.get(hook if isinstance(hook, str) else "", PATHS["patient-view"])
        return path, json.dumps(request).encode("utf-8", "surrogatepass")

    chosen = st.sampled_from(seeds)
    return (chosen.flatmap(lambda s: bent(s, prefetch_values)).map(as_json)
            | chosen.flatmap(wrong_prefetch).map(as_json)
            | trees().map(as_json)
            | st.tuples(st.sampled_from(list(PATHS.values())), st.sampled_from([
                b"", b"{", b"null", b"[]", b'{"hook": "patient-view"}', b"\xff\xfe",
                b"[" * 5000 + b"]" * 5000, b'{"context": {"patientId": "' + b"9" * 100_000
                + b'"}}'])))


def test_no_hook_request_makes_the_service_fail(hooks: Hooks, seeds: list[dict]) -> None:
    @fuzzing(300)
    @given(call=sent(seeds))
    def answers_in_shape(call: tuple[str, bytes]) -> None:
        path, body = call
        answer = hooks.client.post(path, content=body, headers={
            **hooks.headers(path), "content-type": "application/json"})
        ANSWERS[str(answer.status_code)] += 1
        assert answer.status_code in (200, 400, 412), (answer.status_code, answer.text[:300],
                                                       path, body[:300])
        if answer.status_code == 200:
            ANSWERS["cards"] += len(check_response(answer.json()))
        else:
            detail = answer.json()["detail"]
            assert isinstance(detail, str) and detail and len(detail) < 5000, detail

    answers_in_shape()
    total = sum(ANSWERS[code] for code in ("200", "400", "412"))
    report_counts("cds hooks requests", {"requests": total, **ANSWERS})
    assert total >= examples(300)
    assert min(ANSWERS["200"], ANSWERS["400"], ANSWERS["412"]) > 0, dict(ANSWERS)


def test_a_body_that_is_not_json_is_a_400_in_json_not_a_page(hooks: Hooks) -> None:
    """Found by the property above: the strict-JSON check before the routes answered a CDS
    Hooks caller 422 with the clinic's HTML error page; too large a body, 413 the same."""
    path = PATHS["patient-view"]
    for body, status, says in ((b"{", 400, "not valid JSON"),
                               (b'{"a": NaN}', 400, "NaN is not a JSON number"),
                               (b"[" * 40 + b"]" * 40, 400, "nested more than"),
                               (b"x" * (2 * 1024 * 1024), 413, "larger than")):
        answer = hooks.client.post(path, content=body, headers={
            **hooks.headers(path), "content-type": "application/json"})
        assert answer.status_code == status and answer.headers["content-type"].startswith(
            "application/json"), (status, answer.text[:200])
        assert says in answer.json()["detail"]


def _patient_view(seeds: list[dict], **prefetch: Any) -> dict[str, Any]:
    request = json.loads(json.dumps(seeds[0]))
    request["prefetch"].update(prefetch)
    return request


@pytest.mark.parametrize("bend", [
    lambda s: _patient_view(s, patient={"resourceType": 12, "id": "x"}),
    lambda s: _patient_view(s, conditions={"resourceType": "Bundle", "entry": 3}),
    lambda s: _patient_view(s, patient={"resourceType": "Patient", "id": "p", "meta": "x",
                                        "name": [{"given": 5}], "identifier": [
                                            {"system": ["a"], "value": "N-1"}]}),
    lambda s: _patient_view(s, patient={"resourceType": "Patient", "id": "p", "name": 7,
                                        "identifier": 7, "meta": {"security": 3}}),
    lambda s: {**s[3], "context": {**s[3]["context"], "draftOrders": {"entry": 5}}},
    lambda s: {**s[3], "context": {**s[3]["context"], "draftOrders": {"entry": [{"resource": {
        "resourceType": "ServiceRequest", "id": "o", "code": {"coding": [
            {"system": ["x"], "code": "27096"}, 4]}}}]}}},
])
def test_what_the_fuzzing_found_is_answered(hooks: Hooks, seeds: list[dict], bend) -> None:
    """Each of these raised (TypeError or AttributeError: a 500) before."""
    request = bend(seeds)
    path = PATHS[request["hook"]]
    answer = hooks.client.post(path, json=request, headers=hooks.headers(path))
    assert answer.status_code == 200, answer.text[:300]
    check_response(answer.json())

"""Schemathesis against the app's own OpenAPI document: no 5xx, and every answer (status,
content type, body) as the document says, for a clinician, staff, a researcher and an
anonymous visitor; then stateful runs that follow the document's links (a new patient's id
to their episodes, a new episode's to its records, a new record's to its voiding).

Each operation is its own test; the cases come from schemathesis' strategies run under
hypothesis directly (its pytest plugin does not yet run under pytest 9). Every request sent
is counted; the last test checks the counts against their floors and prints them
(`scripts/stress-fuzz` multiplies them with SIJCARE_FUZZ_SCALE).
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from sijcare.web import Settings, create_app
from sijcare.web.auth.sessions import COOKIE
from tests.fuzzing import examples, fuzzing, report_counts
from tests.web.conftest import World

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
STATEFUL_CHECKS = [*CHECKS, ensure_resource_availability, use_after_free]
# What a create needs to pass the rules JSON Schema cannot say (a birth in the past, a line
# without control characters), so the links have something to follow; the stateless tests
# above fuzz these same bodies whole.
PLAUSIBLE = {
    ("/api/v1/patients", "POST"): {"given_name": "Link", "family_name": "Follower",
                                   "birth_date": "1970-02-03", "clinic_id": None},
    ("/api/v1/patients/{patient_id}/episodes", "POST"): {
        "complaint": "Left buttock pain", "opened_on": "2026-01-05", "closed_on": None},
    ("/api/v1/episodes/{episode_id}/records/{kind}", "POST"): {
        "recorded_on": "2026-01-05", "data": {"none": True}},
}
SPEC = create_app(Settings(database_url="sqlite://", secret_key=b"x" * 32)).openapi()
OPERATIONS = sorted(
    (path, method.upper()) for path, methods in SPEC["paths"].items() for method in methods
    if (path, method) != ("/api/v1/session", "delete"))  # would end the session used here
# Examples per operation for each visitor; the clinician reaches every operation's happy
# path, the others mostly their refusals (403, 401), which are quick to exhaust.
PER_OPERATION = {"clinician": 120, "staff": 25, "researcher": 25, "anonymous": 25}
SLOW = {("/api/v1/session", "POST"): 10}  # each checks a password with argon2, slow on purpose
# What the counts must reach at scale 1 (the issue asks >= 2,000 signed in as a clinician).
FLOORS = {"clinician": 2000, "staff": 250, "researcher": 250, "anonymous": 250}
SENT: Counter[str] = Counter()


@pytest.fixture(scope="module")
def api_schema(world: World):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/api/openapi.json", world.app)


@pytest.fixture(scope="module")
def visitors(world: World, clinician: TestClient) -> dict[str, dict]:
    """How each visitor's request is signed: the session cookie and its CSRF token."""
    signed = {"clinician": clinician, "staff": world.signed_in("staff"),
              "researcher": world.signed_in("researcher")}
    anonymous = world.client()
    token = anonymous.get("/api/v1/session").json()["csrf_token"]
    return {**{name: {"headers": {"x-csrf-token": client.headers["x-csrf-token"]},
                      "cookies": {COOKIE: client.cookies[COOKIE]}}
               for name, client in signed.items()},
            "anonymous": {"headers": {"x-csrf-token": token},
                          "cookies": dict(anonymous.cookies)}}


@pytest.mark.parametrize("visitor", list(PER_OPERATION))
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_the_api_answers_as_its_document_says(api_schema, world: World,  # type: ignore[no-untyped-def]
                                              visitors: dict[str, dict], visitor: str,
                                              path: str, method: str) -> None:
    auth = visitors[visitor]

    @given(case=api_schema[path][method].as_strategy())
    @fuzzing(SLOW.get((path, method), PER_OPERATION[visitor]))
    def answers_as_documented(case) -> None:  # type: ignore[no-untyped-def]
        for name in ("patient_id", "episode_id"):  # real ids reach past the 404
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = world.ids[name.removesuffix("_id")]
        SENT[visitor] += 1
        response = case.call_and_validate(checks=CHECKS, **auth)  # raises on a violation
        assert response.status_code < 500, (path, method, response.status_code)

    answers_as_documented()


@pytest.mark.parametrize(("visitor", "scenarios"), [("clinician", 60), ("staff", 10)])
def test_following_the_links_keeps_every_answer_documented(  # type: ignore[no-untyped-def]
        api_schema, visitors: dict[str, dict], visitor: str, scenarios: int) -> None:
    """Create a patient, open an episode, add and void records, sign, read back: each step's
    answer as documented, and what a 201 created is there to read (no 404 after it)."""
    auth = visitors[visitor]
    base = api_schema.as_state_machine()

    class Clinic(base):  # type: ignore[misc, valid-type]
        def before_call(self, case) -> None:  # type: ignore[no-untyped-def]
            plausible = PLAUSIBLE.get((case.operation.path, case.operation.method.upper()))
            if plausible and isinstance(case.body, dict):
                case.body.update(plausible)

        def get_call_kwargs(self, case) -> dict:  # type: ignore[no-untyped-def]
            return auth

        def validate_response(self, response, case, additional_checks=None,  # type: ignore[no-untyped-def]
                              **kwargs) -> None:
            SENT[f"{visitor} stateful"] += 1
            SENT[f"{visitor} stateful {response.status_code}"] += 1
            # these checks only: a schema-valid birth date in 5407 is refused (422) by a rule
            # JSON Schema cannot say, and 422 is documented on every operation
            case.validate_response(response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs,
                                   recorder=self.recorder)

    Clinic.run(settings=settings(fuzzing(scenarios), stateful_step_count=8))
    if visitor == "clinician":  # the links were followed: something was created and used
        assert SENT[f"{visitor} stateful 201"] >= 10, dict(SENT)


def test_the_request_counts_reach_their_floors() -> None:
    """Runs last in this module (the file's order): every visitor got its share."""
    totals = {visitor: SENT[visitor] + SENT[f"{visitor} stateful"] for visitor in FLOORS}
    report_counts("schemathesis requests", {**totals, **{k: v for k, v in SENT.items()
                                                          if "stateful" in k}})
    for visitor, floor in FLOORS.items():
        assert totals[visitor] >= examples(floor), (visitor, totals)

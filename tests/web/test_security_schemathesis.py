"""Schemathesis against the app's own OpenAPI document: no 5xx, and every answer (status,
content type, body) as the document says. Bounded examples keep it quick.

Each operation is its own test; the cases come from schemathesis' strategies run under
hypothesis directly (its pytest plugin does not yet run under pytest 9).
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sijcare.web import Settings, create_app
from sijcare.web.auth.sessions import COOKIE
from tests.web.conftest import World

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
OPERATIONS = sorted(
    (path, method.upper())
    for path, methods in create_app(Settings(database_url="sqlite://", secret_key=b"x" * 32))
    .openapi()["paths"].items() for method in methods
    if (path, method) != ("/api/v1/session", "delete"))  # would end the session used here


@pytest.fixture(scope="module")
def api_schema(world: World):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/api/openapi.json", world.app)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_the_api_answers_as_its_document_says(api_schema, world: World,  # type: ignore[no-untyped-def]
                                              clinician: TestClient, path: str,
                                              method: str) -> None:
    auth = {"headers": {"x-csrf-token": clinician.headers["x-csrf-token"]},
            "cookies": {COOKIE: clinician.cookies[COOKIE]}}

    @given(case=api_schema[path][method].as_strategy())
    @settings(max_examples=15, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers_as_documented(case) -> None:  # type: ignore[no-untyped-def]
        for name in ("patient_id", "episode_id"):  # real ids reach past the 404
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = world.ids[name.removesuffix("_id")]
        response = case.call_and_validate(checks=CHECKS, **auth)  # raises on a violation
        assert response.status_code < 500, (path, method, response.status_code)

    answers_as_documented()

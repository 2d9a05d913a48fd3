"""Hypothesis-made JSON (non-finite numbers, lone surrogates, huge strings, deep nesting) posted
to every API route, signed in and anonymous: never a 5xx, never an answer past a fixed size."""

from __future__ import annotations

import json
import string

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sijcare.store import RECORD_KINDS
from sijcare.web import Settings, create_app
from tests.web.conftest import World

LARGEST_ANSWER = 256 * 1024
SPEC = create_app(Settings(database_url="sqlite://", secret_key=b"x" * 32)).openapi()
ROUTES = sorted((method.upper(), path) for path, methods in SPEC["paths"].items()
                for method in methods)
FIELDS = sorted({name for schema in SPEC["components"]["schemas"].values()
                 for name in schema.get("properties", {})})
QUERIES = sorted({p["name"] for methods in SPEC["paths"].values() for op in methods.values()
                  for p in op.get("parameters", []) if p["in"] == "query"})

# any text, lone surrogates included (json.dumps writes them as \ud800 escapes)
texts = st.text(st.characters(exclude_categories=()), max_size=20)
scalars = (st.none() | st.booleans() | st.integers() | texts
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from(["2026-W01-1", "9999-12-31", "0001-01-01", "2026-12-01T00:00:00",
                              "yes", "off", "\x00", "x" * 100_000]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(FIELDS) | texts, inner, max_size=4),
                      max_leaves=25)
objects = st.dictionaries(st.sampled_from(FIELDS) | texts, values, max_size=6)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


bodies = (objects.map(json.dumps) | values.map(json.dumps)
          | st.integers(1, 3000).map(deep)
          | st.sampled_from(['{"a": 1e309}', '{"a": -1e400}', '"\\udc00"', "{", "",
                             '{"a": "' + "x" * 2_000_000 + '"}', "9" * 10_000]))
segment = st.integers(-2, 2**40).map(str) | st.sampled_from([*RECORD_KINDS, "none", "%00", "x"])


@pytest.fixture(scope="module")
def anonymous(world: World) -> TestClient:
    client = world.client()
    client.headers["x-csrf-token"] = client.get("/api/v1/session").json()["csrf_token"]
    return client


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(ROUTES), signed_in=st.booleans(), body=bodies,
       segments=st.lists(segment, min_size=3, max_size=3), real_ids=st.booleans(),
       query=st.dictionaries(st.sampled_from(QUERIES), st.text(max_size=20), max_size=3))
def test_no_json_makes_the_api_fail_or_flood(world: World, clinician: TestClient,
                                             anonymous: TestClient, route: tuple[str, str],
                                             signed_in: bool, body: str, segments: list[str],
                                             real_ids: bool, query: dict[str, str]) -> None:
    method, template = route
    if signed_in and (method, template) == ("DELETE", "/api/v1/session"):
        signed_in = False  # keep the shared sign-in for the other examples
    ids = iter(segments)
    parts = {name: (str(world.ids[name.removesuffix("_id")]) if real_ids and name in
                    ("patient_id", "episode_id") else next(ids))
             for _, name, _, _ in string.Formatter().parse(template) if name}
    client = clinician if signed_in else anonymous
    answer = client.request(method, template.format(**parts), params=query,
                            content=body.encode("utf-8", "surrogatepass"),
                            headers={"content-type": "application/json"})
    assert answer.status_code < 500, (method, template, answer.text[:300])
    assert len(answer.content) <= LARGEST_ANSWER

"""The OpenAPI document as the server really answers: every refusal an operation can give is
listed with its body, so a client (or schemathesis) finds no undocumented status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM = {"title": "Problem", "type": "object", "required": ["detail"],
           "properties": {"detail": {"description": "What is wrong: a sentence, or for 422 "
                                                    "the problems by field."}}}
# Any operation may answer these (the body limit and strict JSON apply before routing).
REFUSALS = {
    "400": "The request could not be read.",
    "401": "Not signed in: sign in with `POST /api/v1/session`.",
    "403": "Your role does not allow this, or the CSRF token (`X-CSRF-Token`) is missing or "
           "wrong.",
    "404": "No such object, or it belongs to another clinic.",
    "413": "The request body is larger than the configured limit (`SIJCARE_MAX_BODY_KB`).",
    "422": "Invalid input: each problem names its field (`loc`) and what is wrong (`msg`), "
           "never the value sent.",
    "503": "The server is busy (`SIJCARE_MAX_REQUESTS` requests at a time): try again after "
           "the seconds in `Retry-After`.",
}


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer", "minimum": 1}}}


def _document(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for code, description in REFUSALS.items():
        responses.setdefault(code, {"description": description})
    responses["503"].setdefault("headers", RETRY_AFTER)
    for code, response in responses.items():
        if code[0] in "45" and "content" not in response:
            response["content"] = {"application/json": {"schema": PROBLEM_REF}}


# pydantic writes a limit it cannot attach to one type (a number that may be an int or a
# float, an int checked by a function first) under its own name, which JSON Schema ignores.
LIMITS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _standard_limits(node: Any) -> None:
    """Rename pydantic's `ge`/`le`/`gt`/`lt` to JSON Schema's words throughout `node`."""
    if isinstance(node, dict):
        for name, standard in LIMITS.items():
            if name in node and not isinstance(node[name], dict | list):
                node.setdefault(standard, node.pop(name))
        for value in node.values():
            _standard_limits(value)
    elif isinstance(node, list):
        for value in node:
            _standard_limits(value)


# What a created object's answer lets a client do next (OpenAPI links): a new patient's id
# opens their episodes, a new episode's id its records and assessment, a new record's id
# its voiding. Clients and stateful testers (schemathesis) follow them from the 201.
PATIENT = "/api/v1/patients/{patient_id}"
EPISODE = "/api/v1/episodes/{episode_id}"
LINKS: dict[tuple[str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("/api/v1/patients", "post"): {
        "ThePatient": (PATIENT, "get", {"patient_id": "$response.body#/id"}),
        "TheirEpisodes": (f"{PATIENT}/episodes", "get", {"patient_id": "$response.body#/id"}),
        "OpenAnEpisode": (f"{PATIENT}/episodes", "post",
                          {"patient_id": "$response.body#/id"}),
    },
    (f"{PATIENT}/episodes", "post"): {
        "TheEpisode": (EPISODE, "get", {"episode_id": "$response.body#/id"}),
        "ItsRecords": (f"{EPISODE}/records", "get", {"episode_id": "$response.body#/id"}),
        "AddARecord": (f"{EPISODE}/records/{{kind}}", "post",
                       {"episode_id": "$response.body#/id"}),
        "ItsAssessment": (f"{EPISODE}/assessment", "get",
                          {"episode_id": "$response.body#/id"}),
        "SignIt": (f"{EPISODE}/signatures", "post", {"episode_id": "$response.body#/id"}),
    },
    (f"{EPISODE}/records/{{kind}}", "post"): {
        "VoidIt": (f"{EPISODE}/records/{{kind}}/{{record_id}}/void", "post",
                   {"episode_id": "$request.path.episode_id", "kind": "$response.body#/kind",
                    "record_id": "$response.body#/id"}),
    },
}


def _pointer(path: str, method: str) -> str:
    """A JSON pointer to an operation of this document (`/` written `~1`)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _link(spec: dict[str, Any]) -> None:
    for (path, method), links in LINKS.items():
        created = spec["paths"][path][method]["responses"]["201"]
        created["links"] = {name: {"operationRef": _pointer(target, verb),
                                   "parameters": parameters}
                            for name, (target, verb, parameters) in links.items()}


def documented(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema of `app` with the refusals added, standard limits and the links from
    what a POST creates (built once)."""
    if app.openapi_schema is None:
        spec = get_openapi(title=app.title, version=app.version, description=app.description,
                           routes=app.routes)
        _standard_limits(spec)
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
        for path, operations in spec["paths"].items():
            if path.startswith("/api/"):
                for operation in operations.values():
                    _document(operation)
        _link(spec)
        app.openapi_schema = spec
    return app.openapi_schema

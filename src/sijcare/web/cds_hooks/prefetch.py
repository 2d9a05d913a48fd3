"""The patient's resources for a hook: from the EHR's prefetch, else fetched from its server.

Each template asks for one kind of resource the engine reads. A key the EHR sent is used as
it is: a resource or a searchset Bundle; `null` means the EHR has no data; an
OperationOutcome (the EHR's fetch failed) is accepted and reads as no data. A key the EHR
left out is fetched from `fhirServer` with the `fhirAuthorization` bearer token; with no
server, or a server that does not answer, the data cannot be had: `Unavailable` (412).
"""

from __future__ import annotations

from typing import Any

import httpx

from sijcare.interop.fhir.base import objects

PATIENT = "{{context.patientId}}"
TEMPLATES: dict[str, str] = {
    "patient": f"Patient/{PATIENT}",
    "conditions": f"Condition?patient={PATIENT}",
    "observations": f"Observation?patient={PATIENT}",
    "procedures": f"Procedure?patient={PATIENT}",
    "allergies": f"AllergyIntolerance?patient={PATIENT}",
    "medicationRequests": f"MedicationRequest?patient={PATIENT}",
    "medicationStatements": f"MedicationStatement?patient={PATIENT}",
    "questionnaireResponses": f"QuestionnaireResponse?patient={PATIENT}",
}
FETCH_TIMEOUT = 10


class Unavailable(Exception):
    """Data the service needs was neither prefetched nor fetchable."""


def _resources(value: Any) -> list[dict[str, Any]]:
    """A prefetch value's resources: a Bundle's entries, one resource, or none."""
    if not isinstance(value, dict) or value.get("resourceType") == "OperationOutcome":
        return []
    if value.get("resourceType") == "Bundle":
        return [e["resource"] for e in objects(value.get("entry"))
                if isinstance(e.get("resource"), dict)]
    return [value]


def _fetch(client: httpx.Client, server: str, query: str) -> Any:
    try:
        answer = client.get(f"{server.rstrip('/')}/{query}",
                            headers={"Accept": "application/fhir+json"})
    except httpx.HTTPError:
        raise Unavailable from None
    if answer.status_code == 404 and query.startswith("Patient/"):
        return None
    if answer.status_code != 200:
        raise Unavailable
    try:
        return answer.json()
    except ValueError:
        raise Unavailable from None


def missing(prefetch: dict[str, Any] | None) -> list[str]:
    """The template keys the EHR did not prefetch (a `null` one it did: no data)."""
    return [key for key in TEMPLATES if key not in (prefetch or {})]


def gather(prefetch: dict[str, Any] | None, server: str | None, authorization: Any,
           patient_id: str) -> list[dict[str, Any]]:
    """Every resource the templates name, prefetched or fetched from `server` with the
    `authorization`'s bearer token."""
    prefetch = prefetch or {}
    found = [r for key in TEMPLATES if key in prefetch for r in _resources(prefetch[key])]
    if not missing(prefetch):
        return found
    if not server:
        raise Unavailable
    token = getattr(authorization, "access_token", None)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(timeout=FETCH_TIMEOUT, headers=headers, follow_redirects=False) as client:
        for key in missing(prefetch):
            found += _resources(_fetch(client, server,
                                       TEMPLATES[key].replace(PATIENT, patient_id)))
    return found

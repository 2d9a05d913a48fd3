"""A patient's record read from an EHR's FHIR server with a bearer token: the searches a CDS
Hooks service names as its prefetch templates, and the FHIR import from a SMART launch runs.

Each template asks for one kind of resource the engine reads (and the importer maps). A
searchset's further pages are followed (`next`, on the same server only, so the token never
goes elsewhere) up to `PAGES`. A server that cannot be reached or answers anything but 200
(a missing Patient aside) is `Unavailable`; a 401, `Unauthorized`, so a SMART client may
refresh its token and ask again.
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
KINDS = tuple(template.split("?")[0].split("/")[0] for template in TEMPLATES.values())
FETCH_TIMEOUT = 10
PAGES = 20  # a searchset's pages followed at most (the sandbox's are 50 entries each)


class Unavailable(Exception):
    """The EHR's data could not be had."""


class Unauthorized(Unavailable):
    """The EHR's FHIR server refused the token (401): expired or revoked."""


def resources_in(value: Any) -> list[dict[str, Any]]:
    """A resource's or a Bundle's resources (none for an OperationOutcome or nothing)."""
    if not isinstance(value, dict) or value.get("resourceType") == "OperationOutcome":
        return []
    if value.get("resourceType") == "Bundle":
        return [e["resource"] for e in objects(value.get("entry"))
                if isinstance(e.get("resource"), dict)]
    return [value]


def _get(client: httpx.Client, url: str, missing_is_none: bool) -> Any:
    try:
        answer = client.get(url, headers={"Accept": "application/fhir+json"})
    except httpx.HTTPError:
        raise Unavailable from None
    if answer.status_code == 404 and missing_is_none:
        return None
    if answer.status_code == 401:
        raise Unauthorized
    if answer.status_code != 200:
        raise Unavailable
    try:
        return answer.json()
    except ValueError:
        raise Unavailable from None


def _next(page: Any, server: str) -> str | None:
    links = page.get("link") if isinstance(page, dict) else None
    url = next((link.get("url") for link in links or [] if isinstance(link, dict)
                and link.get("relation") == "next"), None)
    return url if isinstance(url, str) and url.startswith(server + "/") else None


def fetched(client: httpx.Client, server: str, template: str,
            patient_id: str) -> list[dict[str, Any]]:
    """The resources one template names for the patient, every page of them."""
    server = server.rstrip("/")
    query = template.replace(PATIENT, patient_id)
    page = _get(client, f"{server}/{query}", query.startswith("Patient/"))
    found = resources_in(page)
    for _ in range(PAGES - 1):
        if (url := _next(page, server)) is None:
            break
        page = _get(client, url, False)
        found += resources_in(page)
    return found


def reader(token: str | None) -> httpx.Client:
    """An HTTP client sending the bearer token, following no redirect (the token stays on
    the server it was given for)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(timeout=FETCH_TIMEOUT, headers=headers, follow_redirects=False)


def patient_record(server: str, token: str, patient_id: str) -> list[dict[str, Any]]:
    """Everything every template names for the patient (the Patient first)."""
    with reader(token) as client:
        return [r for template in TEMPLATES.values()
                for r in fetched(client, server, template, patient_id)]

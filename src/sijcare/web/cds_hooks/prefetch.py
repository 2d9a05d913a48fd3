"""The patient's resources for a hook: from the EHR's prefetch, else fetched from its server.

The templates are `web.ehr.fhir`'s. A key the EHR sent is used as it is: a resource or a
searchset Bundle; `null` means the EHR has no data; an OperationOutcome (the EHR's fetch
failed) is accepted and reads as no data. A key the EHR left out is fetched from `fhirServer`
with the `fhirAuthorization` bearer token; with no server, or a server that does not answer,
the data cannot be had: `Unavailable` (412).
"""

from __future__ import annotations

from typing import Any

from sijcare.web.ehr.fhir import TEMPLATES, Unavailable, fetched, reader, resources_in

__all__ = ["TEMPLATES", "Unavailable", "gather", "missing"]


def missing(prefetch: dict[str, Any] | None) -> list[str]:
    """The template keys the EHR did not prefetch (a `null` one it did: no data)."""
    return [key for key in TEMPLATES if key not in (prefetch or {})]


def gather(prefetch: dict[str, Any] | None, server: str | None, authorization: Any,
           patient_id: str) -> list[dict[str, Any]]:
    """Every resource the templates name, prefetched or fetched from `server` with the
    `authorization`'s bearer token."""
    prefetch = prefetch or {}
    found = [r for key in TEMPLATES if key in prefetch for r in resources_in(prefetch[key])]
    if not missing(prefetch):
        return found
    if not server:
        raise Unavailable
    with reader(getattr(authorization, "access_token", None)) as client:
        for key in missing(prefetch):
            found += fetched(client, server, TEMPLATES[key], patient_id)
    return found

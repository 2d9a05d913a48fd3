"""The CapabilityStatement: what this server does, and nothing it does not."""

from __future__ import annotations

from sijcare import __version__
from sijcare.interop.fhir.base import PROFILES, Resource

READ = [{"code": "read"}]
SEARCH = [{"code": "search-type"}]


def capability_statement(base: str, date: str) -> Resource:
    resources = [
        {"type": "Patient", "profile": PROFILES["patient"], "interaction": READ + SEARCH,
         "searchParam": [{"name": "identifier", "type": "token"}],
         "operation": [{"name": "everything",
                        "definition": "http://hl7.org/fhir/OperationDefinition/"
                                      "Patient-everything"}]},
        {"type": "Observation", "interaction": SEARCH,
         "supportedProfile": [PROFILES["assessment"], PROFILES["clinical"]],
         "searchParam": [{"name": "patient", "type": "reference"},
                         {"name": "code", "type": "token"}]},
        {"type": "Questionnaire", "interaction": READ + SEARCH},
        {"type": "CodeSystem", "interaction": READ},
    ]
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": date,
        "kind": "instance", "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
        "software": {"name": "sijcare", "version": __version__},
        "implementation": {"description": "sijcare clinic app: read-only FHIR R4 for "
                                          "signed-in clinicians (session cookie)",
                           "url": base},
        "rest": [{"mode": "server",
                  "documentation": "Sign in through POST /api/v1/session; patients of other "
                                   "clinics answer 404, roles without clinical access 403.",
                  "resource": resources}],
    }

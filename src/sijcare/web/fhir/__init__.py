"""The FHIR REST face (`/fhir`): metadata, Patient read and `$everything`, search by
identifier, Observations by patient and code, the Questionnaires and sijcare's CodeSystem."""

from sijcare.web.fhir.outcomes import install
from sijcare.web.fhir.routes import router

__all__ = ["install", "router"]

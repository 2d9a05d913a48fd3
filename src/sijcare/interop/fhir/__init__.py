"""The FHIR R4 mapping: records <-> US Core resources, pure functions with codes from the
knowledge base (`fhir_codes.yaml`); no web, no HTTP."""

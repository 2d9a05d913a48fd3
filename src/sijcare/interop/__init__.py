"""Adapters to outside systems: `fhir` (HL7 FHIR R4, US Core)."""

"""The EHR's side of the world, shared by the rooms that talk to it: its FHIR server read
with a bearer token (`fhir`: a hook's missing prefetch, the import of a launch patient), and
what sijcare keeps of a SMART launch's tokens (`grants`)."""

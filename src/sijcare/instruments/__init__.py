"""Scoring of validated questionnaires (ODI, NRS, PGIC) and their minimal important changes."""

"""Clinic-side pages that grew with the patient site (the appointment-request inbox)."""

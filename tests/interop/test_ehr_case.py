"""The EHR's resources as a Case, unsaved (the CDS Hooks' reading): unknown stays unknown,
and only the current episode's records count, as the importer would file them."""

from __future__ import annotations

import datetime as dt

from sijcare.interop.fhir.ehr_case import ehr_case

DAY = dt.date(2026, 6, 1)
SUBJECT = {"reference": "Patient/p"}


def _problem(condition_id: str, recorded: str) -> dict:
    return {"resourceType": "Condition", "id": condition_id, "subject": SUBJECT,
            "recordedDate": recorded, "code": {"coding": [
                {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M53.3"}]}}


def _pain(observation_id: str, day: str, value: int) -> dict:
    return {"resourceType": "Observation", "id": observation_id, "status": "final",
            "subject": SUBJECT, "effectiveDateTime": day, "valueInteger": value,
            "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]}}


def test_a_patient_with_no_birth_date_and_no_records_is_all_unknown() -> None:
    case = ehr_case([{"resourceType": "Patient", "id": "p", "gender": "female"}], DAY, "x-1")
    assert case.patient.id == "x-1" and case.patient.birth_date is None
    assert case.patient.sex == "female"
    assert case.history is None and case.blocks is None and case.conservative_care is None
    assert case.unreviewed is None


def test_only_the_latest_problems_records_make_the_case() -> None:
    """An earlier SI-joint episode's pain rating is not the current one's, on the page or
    in the hook; within the current one the latest rating wins."""
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01",
               "gender": "male"}
    resources = [patient, _problem("old", "2024-01-10"), _pain("a", "2024-02-01", 9),
                 _problem("new", "2026-03-01")]
    assert ehr_case(resources, DAY, "x-2").history is None
    resources += [_pain("b", "2026-04-01", 3), _pain("c", "2026-05-01", 5)]
    assert ehr_case(resources, DAY, "x-2").history.pain_nrs == 5
    assert ehr_case(resources, dt.date(2026, 4, 15), "x-2").history.pain_nrs == 3

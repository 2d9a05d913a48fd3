"""A registry filter whose "from" date is after its "to" date is flagged on the "to" field
(page and PDF), rather than shown as a registry with no procedures in it."""

from __future__ import annotations

from fastapi.testclient import TestClient

PERIOD = {"from": "2026-06-01", "to": "2026-01-31"}


def test_the_page_names_the_to_date_and_shows_no_figures(clinician: TestClient) -> None:
    answer = clinician.get("/registry", params=PERIOD)
    assert answer.status_code == 422
    page = answer.text
    assert "To: is before the from date (2026-06-01)" in page
    assert 'aria-invalid="true"' in page and 'value="2026-01-31"' in page
    assert "Showing:" not in page and "Too few to show" not in page


def test_the_report_refuses_the_same_period(clinician: TestClient) -> None:
    answer = clinician.get("/registry/report.pdf", params=PERIOD)
    assert answer.status_code == 422
    assert "is before the from date (2026-06-01)" in answer.text


def test_a_period_in_order_is_shown(clinician: TestClient) -> None:
    answer = clinician.get("/registry", params={"from": "2026-01-01", "to": "2026-01-01"})
    assert answer.status_code == 200 and "Showing:" in answer.text

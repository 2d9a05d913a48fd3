"""D: feedback on cards (CHECKS.md D1-D4), stored and audited, and the override report."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sijcare.store.models import AuditEvent, CdsFeedback
from tests.cds_hooks.conftest import Hooks
from tests.cds_hooks.test_hooks import ALLERGY, SIGN, VIEW, _order

NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"


def _stop_card(hooks: Hooks) -> dict:
    request = hooks.request("order-sign", hooks.patients["demo-04"], draftOrders=_order("27096"))
    request["prefetch"]["allergies"] = {
        "resourceType": "Bundle", "type": "searchset", "entry": [{"resource": ALLERGY}]}
    cards = hooks.post(SIGN, request).json()["cards"]
    return next(c for c in cards if c["indicator"] == "critical")


def _send(hooks: Hooks, path: str, *items: dict):
    return hooks.post(f"{path}/feedback", {"feedback": list(items)})


def test_an_override_with_a_reason_and_comment_is_stored_and_audited(hooks: Hooks) -> None:
    card = _stop_card(hooks)
    reason = card["overrideReasons"][1]
    answer = _send(hooks, SIGN, {"card": card["uuid"], "outcome": "overridden",
                                 "overrideReason": {"reason": reason,
                                                    "userComment": "allergy was to bupivacaine"},
                                 "outcomeTimestamp": "2026-12-08T10:15:00Z"})
    assert answer.status_code == 200, answer.text
    with hooks.world.sessions() as db:
        row = db.scalars(select(CdsFeedback).where(CdsFeedback.card == card["uuid"])).one()
        audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "cds_feedback",
                                                    AuditEvent.object_id == card["uuid"])).one()
    assert (row.outcome, row.reason_code, row.reason_display) == (
        "overridden", reason["code"], reason["display"])
    assert row.comment == "allergy was to bupivacaine"
    assert row.ehr_user == "Practitioner/dr-west" and row.stop == "no_local_anesthetic_allergy"
    assert row.outcome_at.isoformat() == "2026-12-08T10:15:00"
    assert audit.detail["outcome"] == "overridden"


def test_the_sandboxs_feedback_is_accepted(hooks: Hooks) -> None:  # D3
    card = _stop_card(hooks)
    no_display = {"card": card["uuid"], "outcome": "overridden", "overrideReason": {
        "reason": {"code": "risk-benefit-ratio", "system": NON_ADHERENCE}},
        "outcomeTimestamp": "2026-12-08T10:16:00Z"}
    bare = {"card": card["uuid"], "outcome": "overridden",
            "outcomeTimestamp": "2026-12-08T10:17:00Z"}
    assert _send(hooks, SIGN, no_display, bare).status_code == 200


def test_accepting_the_withdrawal_is_stored_with_its_suggestion(hooks: Hooks) -> None:  # D2, D4
    card = _stop_card(hooks)
    suggestion = card["suggestions"][0]["uuid"]  # both uuids: the sandbox can send this
    item = {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-12-08T10:00Z"}
    answer = _send(hooks, SIGN, item)
    assert answer.status_code == 400 and "acceptedSuggestions" in answer.json()["detail"]
    item["acceptedSuggestions"] = [{"id": suggestion}]
    assert _send(hooks, SIGN, item).status_code == 200
    with hooks.world.sessions() as db:
        row = db.scalars(select(CdsFeedback).where(CdsFeedback.card == card["uuid"])).one()
    assert row.outcome == "accepted" and row.accepted_suggestions == [suggestion]


@pytest.mark.parametrize("item", [
    {"outcome": "ignored"}, {"outcomeTimestamp": "yesterday"},
    {"outcome": "overridden", "overrideReason": {}},
    {"card": "00000000-0000-0000-0000-000000000000"}])
def test_bad_feedback_answers_400_and_stores_nothing(hooks: Hooks, item: dict) -> None:
    card = _stop_card(hooks)
    sent = {"card": card["uuid"], "outcome": "overridden",
            "outcomeTimestamp": "2026-12-08T10:00:00Z", **item}
    with hooks.world.sessions() as db:
        before = len(db.scalars(select(CdsFeedback.id)).all())
    assert _send(hooks, SIGN, sent).status_code == 400
    with hooks.world.sessions() as db:
        assert len(db.scalars(select(CdsFeedback.id)).all()) == before


def test_feedback_on_another_services_card_is_refused(hooks: Hooks) -> None:
    card = _stop_card(hooks)
    sent = {"card": card["uuid"], "outcome": "overridden",
            "outcomeTimestamp": "2026-12-08T10:00:00Z"}
    assert _send(hooks, VIEW, sent).status_code == 400


def test_the_override_report_counts_per_stop_who_and_why(hooks: Hooks) -> None:
    card = _stop_card(hooks)
    for comment in ("patient insists", "record out of date"):
        _send(hooks, SIGN, {"card": card["uuid"], "outcome": "overridden", "overrideReason": {
            "reason": card["overrideReasons"][0], "userComment": comment},
            "outcomeTimestamp": "2026-12-08T11:00:00Z"})
    page = hooks.world.signed_in("clinician").get("/cds-overrides")
    assert page.status_code == 200
    assert "no_local_anesthetic_allergy" in page.text
    assert "Practitioner/dr-west" in page.text and "record out of date" in page.text
    assert card["overrideReasons"][0]["display"] in page.text
    assert hooks.world.signed_in("staff").get("/cds-overrides").status_code == 403


def test_feedback_names_a_card_the_call_issued_not_its_neighbour(hooks: Hooks) -> None:
    """A card's uuid is its call's id and its number: the next number of the same call, the
    call's id itself, or a card of the call's with its number changed is no card."""
    card = _stop_card(hooks)
    for forged in (card["uuid"][:-3] + "fff", card["uuid"][:-3], card["uuid"][:-1] + "x"):
        sent = {"card": forged, "outcome": "overridden",
                "outcomeTimestamp": "2026-12-08T10:00:00Z"}
        answer = _send(hooks, SIGN, sent)
        assert answer.status_code == 400 and "is not a card" in answer.text

"""A and C: discovery and the service calls (CHECKS.md A1-A4, C1-C12), the prefetch cases,
and the hook agreeing with the episode page on the same patient."""

from __future__ import annotations

import copy
import json
import re

import pytest

from sijcare.engine import assess
from sijcare.interop.fhir.ehr_case import REVIEW_RULE, ehr_case
from sijcare.knowledge import load_knowledge
from sijcare.web.assessing import assess_episode
from sijcare.web.cds_hooks.prefetch import TEMPLATES
from tests.cds_hooks.conformance import check_card, check_response, no_empty_values
from tests.cds_hooks.conftest import DEMO_DAY, Hooks, fixture
from tests.cds_hooks.fhir_server import FhirServer

VIEW, SELECT, SIGN = ("/cds-services/sijcare-patient-view", "/cds-services/sijcare-order-select",
                      "/cds-services/sijcare-order-sign")
CPT = "http://www.ama-assn.org/go/cpt"
ALLERGY = {"resourceType": "AllergyIntolerance", "id": "lidocaine", "patient": {
    "reference": "Patient/x"}, "clinicalStatus": {"coding": [{"code": "active"}]},
    "code": {"coding": [{"system": "https://sijcare.org/fhir/CodeSystem/sijcare",
                         "code": "local_anesthetic"}]}}


def _stage_name(stage_id: str) -> str:
    return next(s.name for s in load_knowledge().pathway.stages if s.id == stage_id)


def _order(code: str, order_id: str = "sij-1") -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "ServiceRequest", "id": order_id, "status": "draft",
        "intent": "proposal", "subject": {"reference": "Patient/x"},
        "code": {"coding": [{"system": CPT, "code": code}]}}}]}


def test_discovery_lists_the_three_services(hooks: Hooks) -> None:  # A1-A4
    answer = hooks.client.get("/cds-services", headers=hooks.headers("/cds-services"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    services = answer.json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-select", "order-sign"}
    no_empty_values(answer.json())
    for service in services:
        assert all(isinstance(service[k], str) for k in ("hook", "description", "id"))
        for template in service["prefetch"].values():
            tokens = re.findall(r"{{(.*?)}}", template)
            assert tokens and all(re.fullmatch(r"context\.[A-Za-z]+", t) for t in tokens)


@pytest.mark.parametrize("demo", [f"demo-{n:02d}" for n in range(1, 9)])
def test_patient_view_agrees_with_the_episode_page(hooks: Hooks, demo: str) -> None:
    """The stage the hook shows is the stage the episode page shows for the same patient."""
    patient_id = hooks.patients[demo]
    answer = hooks.post(VIEW, hooks.request("patient-view", patient_id))
    assert answer.status_code == 200, answer.text
    stage_card = check_response(answer.json())[0]
    with hooks.world.sessions() as db:
        from sijcare.store.models import Patient
        episode_id = db.get(Patient, patient_id).episodes[0].id
        stage = assess_episode(db, episode_id, "medicare", DEMO_DAY).stage
    assert stage_card["summary"].startswith(f"SIJ pathway: {_stage_name(stage)}")
    page = hooks.world.signed_in("clinician").get(f"/episodes/{episode_id}")
    assert page.status_code == 200 and _stage_name(stage) in page.text


def test_the_ehr_case_is_assessed_as_the_stored_case(hooks: Hooks) -> None:
    """Every part the FHIR export carries comes back: demo 4's block, exam, red-flag screen
    and pain give the same block finding and likelihood as its stored records."""
    patient_id = hooks.patients["demo-04"]
    with hooks.world.sessions() as db:
        from sijcare.store.models import Patient
        episode_id = db.get(Patient, patient_id).episodes[0].id
        stored = assess_episode(db, episode_id, "medicare", DEMO_DAY)
    case = ehr_case(hooks.resources(patient_id), DEMO_DAY, stored.patient_id)
    from_ehr = assess(case, "medicare")
    assert from_ehr.block == stored.block
    assert from_ehr.sij_likelihood == stored.sij_likelihood
    assert from_ehr.red_flags == stored.red_flags


def test_facts_from_the_ehr_count_as_recorded_and_the_card_says_so(hooks: Hooks) -> None:
    """The hook's safety rule: the EHR's record is the record, so a fact that opens an
    option (demo 4's block with its relief) counts at once, nothing waits for review, and
    the stage card says so; the same facts imported into sijcare would wait."""
    patient_id = hooks.patients["demo-04"]
    case = ehr_case(hooks.resources(patient_id), DEMO_DAY, "demo-04")
    assert case.blocks and case.blocks[0].pain_before > case.blocks[0].pain_after
    assert case.unreviewed is None
    card = check_response(hooks.post(VIEW, hooks.request("patient-view", patient_id)).json())[0]
    assert REVIEW_RULE in card["detail"]


def test_cards_carry_why_rule_versions_source_and_smart_link(hooks: Hooks) -> None:  # C6-C11
    answer = hooks.post(VIEW, hooks.request("patient-view", hooks.patients["demo-02"]))
    card = check_response(answer.json())[0]
    kb = load_knowledge()
    assert f"knowledge {kb.version}" in card["detail"] and "Rule `" in card["detail"]
    assert "**Why**" in card["detail"] and kb.disclaimer in card["detail"]
    assert card["links"][0]["type"] == "smart"
    assert card["links"][0]["url"] == "https://sijcare.test/smart/launch"
    assert re.fullmatch(r"[0-9a-f-]{36}", card["uuid"])


def test_urgent_referral_is_a_critical_card(hooks: Hooks) -> None:
    answer = hooks.post(VIEW, hooks.request("patient-view", hooks.patients["demo-07"]))
    cards = check_response(answer.json())
    assert cards[0]["indicator"] == "critical"
    assert any(c["indicator"] == "critical" and c is not cards[0] for c in cards)  # its alert


def test_missed_follow_up_is_a_warning_card(hooks: Hooks) -> None:
    found = {}
    for demo, patient_id in hooks.patients.items():
        answer = hooks.post(VIEW, hooks.request("patient-view", patient_id))
        for card in check_response(answer.json()):
            if "follow-up" in card["summary"]:
                found[demo] = card
    assert found, "a demo patient has a follow-up due or missed"
    for card in found.values():
        status = "missed" if "missed" in card["summary"] else "due"
        assert card["indicator"] == ("warning" if status == "missed" else "info")


def test_order_sign_with_an_allergy_is_a_critical_stop(hooks: Hooks) -> None:  # S7
    request = hooks.request("order-sign", hooks.patients["demo-04"],
                            draftOrders=_order("27096"))
    request["prefetch"]["allergies"] = {
        "resourceType": "Bundle", "type": "searchset", "entry": [{"resource": ALLERGY}]}
    answer = hooks.post(SIGN, request).json()
    cards = check_response(answer)
    assert "systemActions" not in answer  # C12: withdrawing an order is the clinician's choice
    stops = [c for c in cards if c["indicator"] == "critical"]
    assert len(stops) == 2  # the diagnostic and the therapeutic injection
    for card in stops:
        assert card["summary"].startswith("Stopped for safety")
        assert "anaesthetic" in card["detail"] or "anesthetic" in card["detail"]
        assert card["overrideReasons"][0]["code"] == "cds-not-applicable"
    for card in stops:  # C8, C9: one suggestion, to withdraw the draft order
        assert card["selectionBehavior"] == "at-most-one"
        (suggestion,) = card["suggestions"]
        assert suggestion["actions"] == [{"type": "delete", "resourceId": ["ServiceRequest/sij-1"],
                                          "description": "Remove the draft order "
                                                         "ServiceRequest/sij-1"}]
    without = hooks.request("order-sign", hooks.patients["demo-04"], draftOrders=_order("27096"))
    assert not [c for c in check_response(hooks.post(SIGN, without).json())
                if c["indicator"] == "critical"]


def test_order_select_reads_only_the_selected_orders(hooks: Hooks) -> None:
    orders = _order("27279", "fusion")
    orders["entry"] += _order("64625", "rfa")["entry"]
    request = hooks.request("order-select", hooks.patients["demo-06"], draftOrders=orders,
                            selections=["ServiceRequest/fusion"])
    cards = check_response(hooks.post(SELECT, request).json())
    assert cards and all("fusion" in c["summary"].lower() for c in cards if
                         c["indicator"] != "critical")
    assert not any("ablation" in c["summary"].lower() for c in cards)


def test_27096_orders_both_injections(hooks: Hooks) -> None:
    request = hooks.request("order-sign", hooks.patients["demo-03"], draftOrders=_order("27096"))
    cards = check_response(hooks.post(SIGN, request).json())
    names = {o.name for o in load_knowledge().policies["medicare"].options
             if o.id in ("diagnostic_sij_injection", "therapeutic_sij_injection")}
    assert all(any(c["summary"].startswith(n) for c in cards) for n in names)


def test_an_order_of_something_else_has_no_cards_and_fetches_nothing(hooks: Hooks) -> None:
    request = fixture("order_sign_hook_request.json")  # Inferno's: a diet and a medication
    answer = hooks.post(SIGN, request)
    assert answer.status_code == 200 and answer.json() == {"cards": []}
    select = fixture("order_select_hook_request.json")
    assert hooks.post(SELECT, select).json() == {"cards": []}


def test_inferno_order_sign_with_an_sij_order_is_answered(hooks: Hooks) -> None:
    """Inferno's request with its ServiceRequest recoded as an ablation, data from the
    (local) FHIR server it names, with its bearer token."""
    server = FhirServer()
    try:
        patient = fixture("order_sign_hook_request.json")["context"]["patientId"]
        server.routes[f"/r4/Patient/{patient}"] = {"resourceType": "Patient", "id": patient,
                                                   "gender": "female",
                                                   "birthDate": "1987-02-20"}
        for template in TEMPLATES.values():
            if "?" in template:
                path = "/r4/" + template.replace("{{context.patientId}}", patient)
                server.routes[path] = {"resourceType": "Bundle", "type": "searchset"}
        request = fixture("order_sign_hook_request.json")
        request["fhirServer"] = server.url + "/r4"
        order = copy.deepcopy(fixture("crd_service_request_example.json"))
        order["code"] = {"coding": [{"system": CPT, "code": "64625"}]}
        request["context"]["draftOrders"]["entry"].append({"resource": order})
        cards = check_response(hooks.post(SIGN, request).json())
        assert cards and all(token == "Bearer SAMPLE_TOKEN" for _, token in server.seen)
        assert len(server.seen) == len(TEMPLATES)
    finally:
        server.close()


def test_the_spec_example_patient_view_fetches_what_was_not_prefetched(hooks: Hooks) -> None:
    request = fixture("spec_patient_view_request.json")  # prefetch under its own key only
    gone = FhirServer()
    gone.close()
    request["fhirServer"] = gone.url  # its server, not answering (no network in tests)
    assert hooks.post(VIEW, request).status_code == 412
    request.pop("fhirServer")
    request.pop("fhirAuthorization")
    assert hooks.post(VIEW, request).status_code == 412  # C4


def test_null_prefetch_is_no_data_and_operation_outcome_is_accepted(hooks: Hooks) -> None:
    request = hooks.request("patient-view", hooks.patients["demo-02"])
    request["prefetch"] = {key: None for key in TEMPLATES}  # C3: the EHR has nothing
    request["prefetch"]["observations"] = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "timeout"}]}
    cards = check_response(hooks.post(VIEW, request).json())
    assert cards[0]["summary"].startswith("SIJ pathway: ")


def test_missing_keys_are_fetched_and_412_without_a_server(hooks: Hooks) -> None:  # C3, C4
    request = hooks.request("patient-view", hooks.patients["demo-02"])
    del request["prefetch"]["procedures"]
    assert hooks.post(VIEW, request).status_code == 412
    server = FhirServer()
    try:
        server.routes[f"/Procedure?patient={request['context']['patientId']}"] = {
            "resourceType": "Bundle", "type": "searchset"}
        request["fhirServer"] = server.url
        assert hooks.post(VIEW, request).status_code == 200
        assert server.seen == [(f"/Procedure?patient={request['context']['patientId']}", None)]
        server.routes.clear()  # a server that does not answer
        assert hooks.post(VIEW, request).status_code == 412
    finally:
        server.close()


@pytest.mark.parametrize(("change", "field"), [
    (lambda r: r.pop("hook"), "hook"), (lambda r: r.pop("hookInstance"), "hookInstance"),
    (lambda r: r.pop("context"), "context"),
    (lambda r: r["context"].pop("patientId"), "patientId"),
    (lambda r: r.update(fhirAuthorization={"access_token": "t", "token_type": "Bearer"}),
     "fhirServer"),
    (lambda r: r.update(hook="order-sign"), "hook")])
def test_bad_requests_answer_400_naming_the_field(hooks: Hooks, change, field: str) -> None:
    request = hooks.request("patient-view", hooks.patients["demo-01"])
    change(request)
    answer = hooks.post(VIEW, request)
    assert answer.status_code == 400 and field in answer.json()["detail"]


def test_unknown_service_is_404(hooks: Hooks) -> None:
    path = "/cds-services/nope"
    assert hooks.client.post(path, json={}, headers=hooks.headers(path)).status_code == 404


def test_a_record_that_makes_no_case_is_a_warning_card(hooks: Hooks) -> None:
    request = hooks.request("patient-view", hooks.patients["demo-01"])
    request["prefetch"]["patient"] = {**request["prefetch"]["patient"], "birthDate": "2999-01-01"}
    cards = check_response(hooks.post(VIEW, request).json())
    assert len(cards) == 1 and cards[0]["indicator"] == "warning"
    assert "cannot assess" in cards[0]["summary"]


def test_nothing_from_the_ehr_is_stored_but_the_audit(hooks: Hooks) -> None:
    from sqlalchemy import func, select

    from sijcare.store.models import AuditEvent, CdsFeedback, Episode, Patient
    with hooks.world.sessions() as db:
        counts = [db.scalar(select(func.count()).select_from(t))
                  for t in (Patient, Episode, CdsFeedback)]
        audits = db.scalar(select(func.count(AuditEvent.id)))
    request = hooks.request("patient-view", hooks.patients["demo-05"])
    cards = check_response(hooks.post(VIEW, request).json())
    with hooks.world.sessions() as db:
        assert counts == [db.scalar(select(func.count()).select_from(t))
                          for t in (Patient, Episode, CdsFeedback)]
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert db.scalar(select(func.count(AuditEvent.id))) == audits + 1  # one for the call
    assert (event.action, event.object_type) == ("cds_hook", "cds_call")
    assert event.detail["user"] == "Practitioner/dr-west"
    assert event.detail["hookInstance"] == request["hookInstance"]
    assert [c["uuid"] for c in event.detail["cards"]] == [c["uuid"] for c in cards]
    assert all(c["uuid"].startswith(event.object_id) for c in cards)
    assert len(cards) > 1 and len({c["uuid"] for c in cards}) == len(cards)
    family = request["prefetch"]["patient"]["name"][0]["family"]
    assert family not in json.dumps(event.detail)  # the patient is named by the EHR's id only


def test_every_card_of_every_demo_patient_conforms(hooks: Hooks) -> None:
    for patient_id in hooks.patients.values():
        for path, hook, extra in ((VIEW, "patient-view", {}),
                                  (SIGN, "order-sign", {"draftOrders": _order("27279")})):
            answer = hooks.post(path, hooks.request(hook, patient_id, **extra))
            for card in check_response(answer.json()):
                check_card(card)


@pytest.mark.parametrize("broken", [
    {"summary": "x" * 140}, {"indicator": "hard-stop"}, {"source": {}},
    {"suggestions": [{"label": "a"}]},  # no selectionBehavior (cds-resp-6)
    {"suggestions": [{"label": "a", "isRecommended": True}, {"label": "b",
                                                           "isRecommended": True}],
     "selectionBehavior": "at-most-one"},  # cds-resp-1
    {"suggestions": [{"label": "a", "actions": [{"type": "delete"}]}],
     "selectionBehavior": "any"},  # an action without description (cds-resp-5)
    {"overrideReasons": [{"code": "x", "system": "y"}]},  # no display (cds-resp-4)
    {"links": [{"label": "a", "url": "not a url", "type": "smart"}]},
    {"links": [{"label": "a", "url": "https://x.test", "type": "absolute",
                "appContext": "x"}]},  # cds-resp-3
    {"detail": ""}])
def test_the_card_checks_can_fail(broken: dict) -> None:
    """The conformance checks themselves catch each fault CHECKS.md C6-C11 names."""
    card = {"uuid": "u", "summary": "s", "indicator": "info", "source": {"label": "l"},
            **broken}
    with pytest.raises((AssertionError, KeyError)):
        check_card(card)
        no_empty_values(card)


def test_a_record_no_clinician_could_save_is_named_on_the_warning_card(hooks: Hooks) -> None:
    """An EHR record the record forms refuse (a pain rating of 14) is not read half-way:
    the card names the resource and the field."""
    request = hooks.request("patient-view", hooks.patients["demo-01"])
    pain = {"resourceType": "Observation", "id": "pain-14", "status": "final",
            "subject": {"reference": "Patient/x"}, "effectiveDateTime": DEMO_DAY.isoformat(),
            "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
            "valueInteger": 14}
    request["prefetch"]["observations"]["entry"].append({"resource": pain})
    cards = check_response(hooks.post(VIEW, request).json())
    assert len(cards) == 1 and cards[0]["indicator"] == "warning"
    assert "Observation/pain-14" in cards[0]["detail"] and "pain_nrs" in cards[0]["detail"]

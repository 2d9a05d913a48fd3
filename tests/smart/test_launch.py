"""E: SMART App Launch 2.x end to end against a real authorization server (Authlib's, in
tests/smart/ehr.py) and its FHIR server: EHR launch and standalone launch land on the
patient's episode, signed in as the mapped account, with tokens never in the browser."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import select

from sijcare.store.models import AuditEvent
from sijcare.web import Settings, create_app
from sijcare.web.smart.client import challenge
from tests.smart.conftest import REDIRECT, Launching
from tests.smart.conftest import launch as _launch


def test_ehr_launch_lands_on_the_patients_episode(launching: Launching) -> None:
    browser = launching.browser()
    _, landed = _launch(launching, browser, "L-ada")
    assert landed.status_code == 303
    assert landed.headers["location"] == f"/episodes/{launching.episode_id}"
    page = browser.get(landed.headers["location"])
    assert page.status_code == 200 and "North" in page.text  # Ada North's episode
    with launching.world.sessions() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "smart_launch")
                           .order_by(AuditEvent.seq.desc())).first()
    assert event.actor_id == launching.world.ids["clinician"]
    assert event.detail == {"iss": launching.ehr.fhir_base, "encounter": "enc-9"}
    with launching.world.sessions() as db:
        signed_in = db.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in")
                               .order_by(AuditEvent.seq.desc())).first()
    assert signed_in.detail["second_factor"] == f"smart:{launching.ehr.fhir_base}"


def test_the_authorization_request_is_smart_with_pkce(launching: Launching) -> None:  # E1, E2
    browser = launching.browser()
    launching.ehr.token_requests.clear()
    started, landed = _launch(launching, browser, "L-ada")
    sent = {k: v[0] for k, v in parse_qs(urlparse(started.headers["location"]).query).items()}
    assert sent["response_type"] == "code" and sent["client_id"] == "sijcare"
    assert sent["redirect_uri"] == REDIRECT and sent["launch"] == "L-ada" and sent["state"]
    assert sent["aud"] == launching.ehr.fhir_base
    assert sent["code_challenge_method"] == "S256"
    assert {"launch", "openid", "fhirUser"} <= set(sent["scope"].split())
    token_request = launching.ehr.token_requests[-1]
    assert token_request["grant_type"] == "authorization_code"
    assert token_request["redirect_uri"] == REDIRECT
    assert challenge(token_request["code_verifier"]) == sent["code_challenge"]
    assert "client_secret" not in token_request  # sent as HTTP Basic, as configured
    assert landed.status_code == 303


def test_the_access_token_is_used_and_never_reaches_the_browser(launching: Launching) -> None:
    browser = launching.browser()  # E4
    launching.ehr.fhir_reads.clear()
    started, landed = _launch(launching, browser, "L-ada")
    (patient, authorization), = launching.ehr.fhir_reads
    token = authorization.removeprefix("Bearer ")
    assert patient == "ehr-123" and token in launching.ehr.tokens
    seen = [started, landed, browser.get(landed.headers["location"])]
    for answer in seen:
        assert token not in answer.text and token not in json.dumps(dict(answer.headers))
    assert all(token not in value for value in browser.cookies.values())


def test_standalone_launch_uses_the_ehrs_patient_picker(launching: Launching) -> None:
    launching.ehr.standalone_patient = "ehr-123"
    started, landed = _launch(launching, launching.browser())
    assert "launch/patient" in parse_qs(urlparse(started.headers["location"]).query)["scope"][0]
    assert landed.headers["location"] == f"/episodes/{launching.episode_id}"


def test_a_patient_sijcare_does_not_know_is_said_so_to_who_may_not_import(
        launching: Launching) -> None:
    launching.ehr.signed_in_user = "Practitioner/dr-staff"  # staff: registers, never imports
    try:
        _, landed = _launch(launching, launching.browser(), "L-stranger")
    finally:
        launching.ehr.signed_in_user = "Practitioner/dr-west"
    assert landed.status_code == 404 and "no episode in sijcare" in landed.text


def test_an_unmapped_ehr_user_is_refused(launching: Launching) -> None:
    launching.ehr.signed_in_user = "Practitioner/locum"
    try:
        _, landed = _launch(launching, launching.browser(), "L-ada")
    finally:
        launching.ehr.signed_in_user = "Practitioner/dr-west"
    assert landed.status_code == 403 and "not mapped" in landed.text


def test_the_callback_belongs_to_the_launching_browser_once(launching: Launching) -> None:
    browser = launching.browser()
    started = browser.get("/smart/launch", params={"iss": launching.ehr.fhir_base,
                                                   "launch": "L-ada"}, follow_redirects=False)
    authorized = httpx.get(started.headers["location"], follow_redirects=False)
    query = {k: v[0] for k, v in parse_qs(urlparse(authorized.headers["location"]).query)
             .items()}
    other = launching.browser()  # another browser with the same code and state
    assert other.get("/smart/callback", params=query).status_code == 400
    assert browser.get("/smart/callback", params=query, follow_redirects=False
                       ).status_code == 303
    browser.cookies.set("sijcare_smart_state", query["state"], path="/smart")
    assert browser.get("/smart/callback", params=query).status_code == 400  # spent


def test_an_iss_not_allowed_is_refused(launching: Launching) -> None:
    answer = launching.browser().get("/smart/launch", params={
        "iss": "https://rogue.test/fhir", "launch": "x"})
    assert answer.status_code == 400 and "SIJCARE_SMART_ISSUERS" in answer.text


def test_the_smart_issuers_file_is_checked_naming_the_place(tmp_path) -> None:
    from sijcare.web.smart.issuers import SmartIssuersError, load_smart_issuers
    path = tmp_path / "smart.json"
    path.write_text(json.dumps({"https://ehr.test/fhir": {"client_id": "sijcare"}}))
    with pytest.raises(SmartIssuersError, match="client_secret"):
        load_smart_issuers(path)
    path.write_text("not json")
    with pytest.raises(SmartIssuersError, match="cannot read"):
        load_smart_issuers(path)
    assert load_smart_issuers(None) == {}


def test_the_settings_name_both_allow_lists(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SIJCARE_CDS_ISSUERS", str(tmp_path / "cds.json"))
    monkeypatch.setenv("SIJCARE_SMART_ISSUERS", str(tmp_path / "smart.json"))
    monkeypatch.setenv("SIJCARE_SECRET_KEY", "k" * 40)
    settings = Settings.from_env("sqlite://")
    assert settings.cds_issuers == tmp_path / "cds.json"
    assert settings.smart_issuers == tmp_path / "smart.json"
    from sijcare.web.cds_hooks.issuers import IssuersError
    with pytest.raises(IssuersError, match="SIJCARE_CDS_ISSUERS"):
        create_app(settings)  # the file named is missing: the app does not start

"""A launch patient sijcare does not know, imported from the EHR end to end, and the tokens
behind it: kept server-side, refreshed with the refresh token once expired (CHECKS.md E3),
against the real authorization server and FHIR server of tests/smart/ehr.py."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store.models import AuditEvent, ImportedRecord, Patient
from sijcare.web.ehr.grants import Grant, GrantExpired, GrantGone, Grants, refreshed
from tests.smart.conftest import Launching, build_launching, launch
from tests.web.public_helpers import hidden, post_form


@pytest.fixture()
def fresh(tmp_path: Path) -> Iterator[Launching]:
    """A world of its own: each test imports the Synthea patient anew."""
    built = build_launching(tmp_path)
    yield built
    built.ehr.close()
    built.world.engine.dispose()


def _offered(launching: Launching, browser: TestClient) -> str:
    """The offer page of a launch of the Synthea patient."""
    _, landed = launch(launching, browser, "L-clemente")
    assert landed.status_code == 303, landed.text
    assert landed.headers["location"].startswith("/imports/ehr?grant=")
    page = browser.get(landed.headers["location"])
    assert page.status_code == 200, page.text
    return page.text


def _accept(browser: TestClient, page: str):
    return post_form(browser, page, "/imports/ehr", {"grant": hidden(page, "grant")})


def _searches(launching: Launching) -> list[tuple[str, str | None]]:
    return [(what, auth) for what, auth in launching.ehr.fhir_reads if "?" in what]


def test_an_unknown_patient_is_imported_from_the_ehr_and_opens(fresh: Launching) -> None:
    browser, ehr = fresh.browser(), fresh.ehr
    page = _offered(fresh, browser)
    assert "Clemente Kreiger, born 1984-07-02" in page
    (_, at_callback), = ehr.fhir_reads  # the launch patient, read once at the callback
    answer = _accept(browser, page)
    assert answer.status_code == 303, answer.text[:500]
    with fresh.world.sessions() as db:
        patient = db.scalars(select(Patient).where(Patient.family_name == "Kreiger")).one()
        imported = db.scalars(select(ImportedRecord).where(
            ImportedRecord.patient_id == patient.id)).all()
        via = db.scalars(select(AuditEvent).where(AuditEvent.action == "import",
                                                  AuditEvent.object_type == "fhir")).one()
    assert answer.headers["location"] == f"/patients/{patient.id}"
    assert "Kreiger" in browser.get(answer.headers["location"]).text
    assert patient.clinic_id == fresh.world.ids["north"] and patient.external_id
    records = [r for r in imported if r.kind != "patient"]
    assert records and all(r.review == "unreviewed" for r in records)  # imported, not reviewed
    assert via.detail["via"] == f"SMART launch from {ehr.fhir_base}"
    searched = _searches(fresh)
    assert {auth for _, auth in searched} == {at_callback}  # the launch's token, still valid
    observations = [what for what, _ in searched if what.startswith("Observation")]
    assert len(observations) == 3  # 48 Observations, 20 a page: every page followed
    # the offer is used up; a new launch lands on the imported patient's episode
    assert browser.get(f"/imports/ehr?grant={hidden(page, 'grant')}").status_code == 404
    _, again = launch(fresh, browser, "L-clemente")
    assert again.status_code == 303 and again.headers["location"].startswith("/episodes/")
    assert "Kreiger" in browser.get(again.headers["location"]).text


def test_an_access_token_past_its_expiry_is_refreshed_before_use(fresh: Launching) -> None:
    """E3: sijcare's clock says the token expired: the token endpoint is asked with the
    refresh token issued at the launch, and the new access token reads the record."""
    browser, ehr = fresh.browser(), fresh.ehr
    page = _offered(fresh, browser)
    (issued,) = ehr.refresh_tokens  # the code exchange's
    grants = fresh.world.app.state.ehr_grants
    grants.clock = lambda: time.time() + 301  # the EHR's tokens last 300 s
    try:
        answer = _accept(browser, page)
    finally:
        grants.clock = time.time
    assert answer.status_code == 303, answer.text[:500]
    refresh = ehr.token_requests[-1]
    assert refresh == {"grant_type": "refresh_token", "refresh_token": issued}  # Basic auth
    assert ehr.refresh_tokens[issued].revoked  # the EHR rotated it
    fresh_token = next(t.access_token for t in ehr.refresh_tokens.values() if not t.revoked)
    assert {auth for _, auth in _searches(fresh)} == {f"Bearer {fresh_token}"}


def test_a_token_the_ehr_refuses_is_refreshed_once_and_used(fresh: Launching) -> None:
    """E3: the EHR ends the access token early (its 401 is the only sign: by sijcare's clock
    it still has minutes): refreshed, and the reads go on with the new one."""
    browser, ehr = fresh.browser(), fresh.ehr
    page = _offered(fresh, browser)
    (old,) = ehr.tokens.values()
    old.expires_at = time.time() - 1
    answer = _accept(browser, page)
    assert answer.status_code == 303, answer.text[:500]
    assert ehr.token_requests[-1]["grant_type"] == "refresh_token"
    new = next(t for t in ehr.tokens.values() if t is not old)
    assert {auth for _, auth in _searches(fresh)} == {f"Bearer {new.access_token}"}


def test_without_a_refresh_token_an_expired_launch_asks_for_a_new_one(
        fresh: Launching) -> None:
    browser, ehr = fresh.browser(), fresh.ehr
    ehr.client.refreshable = False
    page = _offered(fresh, browser)
    assert not ehr.refresh_tokens
    (old,) = ehr.tokens.values()
    old.expires_at = time.time() - 1
    answer = _accept(browser, page)
    assert answer.status_code == 409 and "open sijcare from the EHR again" in answer.text
    assert [r["grant_type"] for r in ehr.token_requests] == ["authorization_code"]
    with fresh.world.sessions() as db:
        assert db.scalars(select(Patient).where(Patient.family_name == "Kreiger")).first() is None
    assert browser.get(f"/imports/ehr?grant={hidden(page, 'grant')}").status_code == 404


def test_the_offer_is_the_launching_clinicians_only(launching: Launching) -> None:
    browser = launching.browser()
    page = _offered(launching, browser)
    handle = hidden(page, "grant")
    other = launching.world.signed_in("south_clinician")
    assert other.get(f"/imports/ehr?grant={handle}").status_code == 404
    assert post_form(other, other.get("/imports/fhir").text, "/imports/ehr",
                     {"grant": handle}).status_code == 404
    staff = launching.world.signed_in("staff")
    assert staff.get(f"/imports/ehr?grant={handle}").status_code == 403
    for token in launching.ehr.tokens:  # E4: the tokens never reach the browser
        assert token not in page and all(token not in v for v in browser.cookies.values())


def test_a_refresh_token_used_once_is_refused_the_second_time(launching: Launching) -> None:
    """The EHR rotates refresh tokens: a grant holding a spent one cannot be refreshed."""
    _offered(launching, launching.browser())
    issued, kept = next((t, k) for t, k in launching.ehr.refresh_tokens.items()
                        if not k.revoked)
    grant = Grant(1, launching.ehr.fhir_base, launching.ehr.url + "/token", "x",
                  kept.access_token, issued, 0.0, {})
    client = ("sijcare", "client-secret-of-sijcare")
    renewed = refreshed(grant, client, time.time())
    assert renewed.refresh_token not in (None, issued)
    assert renewed.expires_at is not None and renewed.expires_at > time.time() + 200
    with pytest.raises(GrantExpired):
        refreshed(grant, client, time.time())
    with pytest.raises(GrantExpired):  # a wrong client secret is refused too
        refreshed(renewed, ("sijcare", "wrong"), time.time())


def test_a_kept_grant_is_sealed_private_its_owners_and_an_hour_long(tmp_path: Path) -> None:
    now = [1000.0]
    grants = Grants(tmp_path / "grants", b"secret", clock=lambda: now[0])
    grant = Grant(7, "https://ehr.test/fhir", "https://ehr.test/token", "p-1",
                  "access-token-value", "refresh-token-value", 2000.0, {"name": "A B"})
    handle = grants.keep(grant)
    (place,) = (tmp_path / "grants").iterdir()
    assert stat.S_IMODE(place.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "grants").stat().st_mode) == 0o700
    assert b"access-token-value" not in place.read_bytes()
    assert b"refresh-token-value" not in place.read_bytes()
    assert grants.open(handle, 7).access_token == "access-token-value"
    for wrong in ((handle, 8), ("../" + handle, 7), ("x" * 22, 7)):
        with pytest.raises(GrantGone):
            grants.open(*wrong)
    with pytest.raises(GrantGone):  # another secret (a rotated key) reads nothing
        Grants(tmp_path / "grants", b"other", clock=lambda: now[0]).open(handle, 7)
    now[0] += 3601
    with pytest.raises(GrantGone):
        grants.open(handle, 7)

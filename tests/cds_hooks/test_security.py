"""B: the EHR's JWT on every call (discovery, service and feedback), as CHECKS.md B1-B8 ask."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from sijcare.web.cds_hooks.issuers import IssuersError, load_issuers
from tests.cds_hooks.conftest import EHR, ROTATING, Hooks, Signer

DISCOVERY = "/cds-services"


def _get(hooks: Hooks, token: str | None, path: str = DISCOVERY):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return hooks.client.get(path, headers=headers)


def _refused(answer) -> None:
    assert answer.status_code == 401
    assert answer.content == b""  # B8: no detail
    assert answer.headers["www-authenticate"] == "Bearer"


def test_es384_and_rs384_from_allowed_issuers_are_accepted(hooks: Hooks) -> None:
    for signer in (hooks.es, hooks.rs):  # RS384's key set comes from its jwks_url
        answer = hooks.client.get(DISCOVERY, headers=hooks.headers(DISCOVERY, signer))
        assert answer.status_code == 200, signer.alg


def test_no_token_or_not_bearer_is_refused(hooks: Hooks) -> None:  # B1
    _refused(_get(hooks, None))
    token = hooks.es.token(hooks.url(DISCOVERY))
    _refused(hooks.client.get(DISCOVERY, headers={"Authorization": f"Basic {token}"}))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("token", [
    "x", "a.b.c", "%.%.%", ".", "..", "e30", "e30.e30",  # e30: {}
    _b64(b"[1]") + "." + _b64(b"{}") + ".x", _b64(b"{}") + "." + _b64(b'"iss"') + ".x",
    _b64(b"[" * 5000 + b"]" * 5000) + ".e30.x", _b64(b"\xff\xfe") + ".e30.x"])
def test_a_token_that_is_no_jwt_is_refused(hooks: Hooks, token: str) -> None:  # B1, B8
    _refused(_get(hooks, token))


def _unsigned(payload: dict, header: dict) -> str:
    part = [base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode()
            for x in (header, payload)]
    return ".".join(part) + "."


def _claims(hooks: Hooks, **extra) -> dict:
    now = int(time.time())
    return {"iss": EHR, "aud": hooks.url(DISCOVERY), "exp": now + 300, "iat": now,
            "jti": str(uuid.uuid4()), **extra}


def test_alg_none_and_hmac_are_refused(hooks: Hooks) -> None:  # B2, B4
    _refused(_get(hooks, _unsigned(_claims(hooks), {"alg": "none", "typ": "JWT",
                                                   "kid": "ehr-es-1"})))
    # HS384 keyed with the public key's JSON: the classic algorithm-confusion attack
    unsigned = _unsigned(_claims(hooks), {"alg": "HS384", "typ": "JWT", "kid": "ehr-es-1"})
    mac = hmac.new(json.dumps(hooks.es.jwk).encode(), unsigned[:-1].encode(), hashlib.sha384)
    _refused(_get(hooks, unsigned + base64.urlsafe_b64encode(mac.digest()).rstrip(b"=")
                  .decode()))


def test_header_needs_typ_jwt_and_a_known_kid(hooks: Hooks) -> None:  # B2, B3
    _refused(_get(hooks, hooks.es.token(hooks.url(DISCOVERY), header={"typ": "at+jwt"})))
    _refused(_get(hooks, hooks.es.token(hooks.url(DISCOVERY), header={"kid": "unknown"})))
    no_kid = jwt.encode(_claims(hooks), hooks.es.key, algorithm="ES384",
                        headers={"typ": "JWT"})
    _refused(_get(hooks, no_kid))


def test_a_key_of_the_wrong_alg_for_its_kid_is_refused(hooks: Hooks) -> None:  # B4
    other = Signer(ec.generate_private_key(ec.SECP384R1()), "ES384", "ehr-es-1")
    _refused(_get(hooks, other.token(hooks.url(DISCOVERY))))  # right kid, wrong key
    sandbox = Signer(ec.generate_private_key(ec.SECP384R1()), "ES384",
                     "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f")
    _refused(_get(hooks, sandbox.token(hooks.url(DISCOVERY),
                                       iss="https://sandbox.cds-hooks.org")))


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "jti"])
def test_each_required_claim_is_needed(hooks: Hooks, claim: str) -> None:  # B5
    claims = {"aud": hooks.url(DISCOVERY), claim: None}
    _refused(_get(hooks, hooks.es.token(**claims)))


def test_aud_must_be_the_exact_endpoint(hooks: Hooks) -> None:  # B5, D1
    for aud in ("https://sijcare.test", "https://sijcare.test/cds-services/",
                "http://sijcare.test/cds-services", "https://sijcare.test/cds-services/x"):
        _refused(_get(hooks, hooks.es.token(aud)))
    path = "/cds-services/sijcare-patient-view/feedback"
    answer = hooks.client.post(path, json={"feedback": []},
                               headers=hooks.headers("/cds-services/sijcare-patient-view"))
    _refused(answer)


def test_time_claims_hold_within_60_seconds(hooks: Hooks) -> None:  # B5
    now = int(time.time())
    url = hooks.url(DISCOVERY)
    _refused(_get(hooks, hooks.es.token(url, exp=now - 61)))
    assert _get(hooks, hooks.es.token(url, exp=now - 30)).status_code == 200
    _refused(_get(hooks, hooks.es.token(url, iat=now + 120)))
    assert _get(hooks, hooks.es.token(url, iat=now + 30)).status_code == 200


def test_unknown_issuer_is_refused(hooks: Hooks) -> None:  # B5, B6
    _refused(_get(hooks, hooks.es.token(hooks.url(DISCOVERY), iss="https://rogue.test")))
    # an allowed issuer's name with another issuer's key
    _refused(_get(hooks, hooks.es.token(hooks.url(DISCOVERY), iss=ROTATING)))


def test_a_replayed_jti_is_refused_until_it_expires(hooks: Hooks) -> None:  # B6
    token = hooks.es.token(hooks.url(DISCOVERY))
    assert _get(hooks, token).status_code == 200
    _refused(_get(hooks, token))
    again = hooks.es.token(hooks.url(DISCOVERY), jti="shared-jti")
    assert _get(hooks, again).status_code == 200
    # the same jti from another issuer is another token
    other = hooks.rs.token(hooks.url(DISCOVERY), iss=ROTATING, jti="shared-jti")
    assert _get(hooks, other).status_code == 200


def test_jku_is_honoured_only_when_on_the_issuers_list(hooks: Hooks) -> None:  # B3, B6
    listed = hooks.keyserver.url + "/jwks.json"
    token = hooks.rs.token(hooks.url(DISCOVERY), iss=ROTATING, header={"jku": listed})
    assert _get(hooks, token).status_code == 200
    hooks.keyserver.routes["/evil.json"] = {"keys": [hooks.rs.jwk]}
    evil = hooks.rs.token(hooks.url(DISCOVERY), iss=ROTATING,
                          header={"jku": hooks.keyserver.url + "/evil.json"})
    _refused(_get(hooks, evil))
    assert not any(path == "/evil.json" for path, _ in hooks.keyserver.seen)  # never fetched


def test_extra_claims_are_tolerated(hooks: Hooks) -> None:  # B7: Epic's nbf and sub
    now = int(time.time())
    token = hooks.es.token(hooks.url(DISCOVERY), nbf=now - 300, sub="epic-client",
                           tenant="north")
    assert _get(hooks, token).status_code == 200


def test_the_token_is_never_logged(hooks: Hooks, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = hooks.es.token("https://wrong.test")
    _refused(_get(hooks, token))
    assert token not in caplog.text and token.split(".")[2] not in caplog.text


def test_the_issuers_file_is_checked_naming_the_issuer(tmp_path) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps({"https://a.test": {"jwks_url": "ftp://x"}}))
    with pytest.raises(IssuersError, match=r"https://a\.test.*jwks_url"):
        load_issuers(path)
    path.write_text(json.dumps({"https://a.test": {}}))
    with pytest.raises(IssuersError, match="exactly one"):
        load_issuers(path)
    assert load_issuers(None) == {}


def test_a_replay_is_refused_by_another_process_on_the_same_database(hooks: Hooks) -> None:
    """A second app on its own engine (as a second server process would be) refuses the
    token the first accepted: the jti lives in the database, not in memory."""
    from fastapi.testclient import TestClient

    from sijcare.store import make_engine
    from sijcare.web import create_app
    settings = hooks.world.app.state.settings
    engine = make_engine(settings.database_url)
    try:
        with TestClient(create_app(settings, engine)) as other:
            token = hooks.es.token(hooks.url(DISCOVERY))
            assert _get(hooks, token).status_code == 200
            _refused(other.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"}))
    finally:
        engine.dispose()


def test_a_key_set_with_the_kid_twice_is_refused(hooks: Hooks) -> None:  # B3
    from sijcare.web.cds_hooks.issuers import Issuer, KeySet, KeySets
    from sijcare.web.cds_hooks.tokens import Refused, verify
    twice = Issuer(EHR, KeySet({"keys": [hooks.es.jwk, hooks.es.jwk]}), None, ())
    once = Issuer(EHR, KeySet({"keys": [hooks.es.jwk]}), None, ())
    token = hooks.es.token("https://aud.test")
    assert verify(token, "https://aud.test", {EHR: once}, KeySets()).iss == EHR
    with pytest.raises(Refused):
        verify(token, "https://aud.test", {EHR: twice}, KeySets())


def test_a_fetched_key_set_and_its_keys_are_kept_five_minutes(hooks: Hooks) -> None:  # B3
    """Each key is built once and kept with its set; the set is fetched again after five
    minutes, or early (at most once a minute) for a kid it lacks: an EHR rotating its keys."""
    from sijcare.web.cds_hooks.issuers import Issuer, KeySets
    from sijcare.web.cds_hooks.tokens import Refused, verify
    path, now = "/rotation.json", [0.0]
    hooks.keyserver.routes[path] = {"keys": [hooks.rs.jwk]}
    url = hooks.keyserver.url + path
    issuers = {ROTATING: Issuer(ROTATING, None, url, ())}
    keysets = KeySets(clock=lambda: now[0])

    def fetches() -> int:
        return sum(seen == path for seen, _ in hooks.keyserver.seen)

    def check(signer: Signer) -> str:
        return verify(signer.token("https://aud.test", iss=ROTATING), "https://aud.test",
                      issuers, keysets).iss
    assert check(hooks.rs) == ROTATING and fetches() == 1
    new = Signer(ec.generate_private_key(ec.SECP384R1()), "ES384", "ehr-es-2")
    hooks.keyserver.routes[path] = {"keys": [new.jwk]}  # the EHR rotates its key
    now[0] = 30
    with pytest.raises(Refused):  # fetched half a minute ago: not again yet
        check(new)
    assert check(hooks.rs) == ROTATING and fetches() == 1
    now[0] = 61
    assert check(new) == ROTATING and fetches() == 2
    with pytest.raises(Refused):  # the old key went with the old set
        check(hooks.rs)
    key = keysets.get(url, new.kid).key(new.kid, "ES384")
    now[0] = 61 + 299
    assert check(new) == ROTATING and fetches() == 2
    assert keysets.get(url, new.kid).key(new.kid, "ES384") is key  # built once
    now[0] = 61 + 301
    assert check(new) == ROTATING and fetches() == 3  # kept five minutes

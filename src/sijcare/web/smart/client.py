"""sijcare as a SMART App Launch 2.x confidential client: discovery, the authorization
request with PKCE S256, the code exchanged for tokens (client_secret_basic), the id token
verified against the server's keys, and the launch patient read with the access token.

The scopes ask to read the patient's record as the FHIR import reads it (`web.ehr.fhir`'s
kinds) and `online_access`, for a refresh token while the clinician works. The tokens
reach neither the browser nor the database: the callback keeps them server-side only when
the clinician may import the patient (`web.ehr.grants`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from sijcare.web.ehr.fhir import KINDS
from sijcare.web.ehr.grants import TokenFailed, expiry, token_request
from sijcare.web.smart.issuers import SmartIssuer

TIMEOUT = 10
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "ES256", "ES384"]
READS = " ".join(f"patient/{kind}.rs" for kind in KINDS)
EHR_SCOPE = f"launch openid fhirUser online_access {READS}"
STANDALONE_SCOPE = f"launch/patient openid fhirUser online_access {READS}"


class LaunchFailed(Exception):
    """The launch cannot go on; the message is safe to show (no token, no secret)."""


@dataclass(frozen=True)
class Configuration:
    authorize: str
    token: str
    jwks_uri: str | None
    issuer: str | None


@dataclass(frozen=True)
class Launched:
    """What the EHR handed over: the user, the patient (as the EHR's FHIR server has it),
    the encounter if any, and the token response (kept server-side, or dropped)."""

    fhir_user: str
    patient: dict[str, Any]
    encounter: str | None
    tokens: dict[str, Any]
    expires_at: float | None


def _json(answer: httpx.Response, what: str) -> dict[str, Any]:
    if answer.status_code != 200:
        raise LaunchFailed(f"The EHR's {what} answered {answer.status_code}.")
    try:
        found = answer.json()
    except ValueError:
        raise LaunchFailed(f"The EHR's {what} did not answer JSON.") from None
    if not isinstance(found, dict):
        raise LaunchFailed(f"The EHR's {what} did not answer a JSON object.")
    return found


def discover(iss: str) -> Configuration:
    """`{iss}/.well-known/smart-configuration`; PKCE S256 must be offered."""
    try:
        found = _json(httpx.get(f"{iss}/.well-known/smart-configuration", timeout=TIMEOUT),
                      "SMART configuration")
    except httpx.HTTPError:
        raise LaunchFailed("The EHR's SMART configuration could not be read.") from None
    if "S256" not in (found.get("code_challenge_methods_supported") or []):
        raise LaunchFailed("The EHR's authorization server does not offer PKCE S256.")
    try:
        return Configuration(found["authorization_endpoint"], found["token_endpoint"],
                             found.get("jwks_uri"), found.get("issuer"))
    except KeyError as missing:
        raise LaunchFailed(f"The EHR's SMART configuration lacks {missing}.") from None


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]


def authorize_url(config: Configuration, issuer: SmartIssuer, redirect_uri: str, state: str,
                  verifier: str, launch: str | None) -> str:
    query = {"response_type": "code", "client_id": issuer.client_id,
             "redirect_uri": redirect_uri, "scope": EHR_SCOPE if launch else STANDALONE_SCOPE,
             "state": state, "aud": issuer.iss, "code_challenge": challenge(verifier),
             "code_challenge_method": "S256"}
    if launch:
        query["launch"] = launch
    return f"{config.authorize}?{urlencode(query)}"


def _fhir_user(config: Configuration, issuer: SmartIssuer, id_token: str) -> str:
    if not config.jwks_uri:
        raise LaunchFailed("The EHR publishes no keys to check its id token with.")
    try:
        key = jwt.PyJWKClient(config.jwks_uri, timeout=TIMEOUT).get_signing_key_from_jwt(
            id_token)
        claims = jwt.decode(id_token, key.key, algorithms=ID_TOKEN_ALGORITHMS,
                            audience=issuer.client_id, issuer=config.issuer, leeway=60,
                            options={"require": ["iss", "aud", "exp", "iat"],
                                     "verify_iss": config.issuer is not None})
    except jwt.PyJWTError:
        raise LaunchFailed("The EHR's id token did not verify.") from None
    if not isinstance(claims.get("fhirUser"), str):
        raise LaunchFailed("The EHR's id token names no fhirUser.")
    return claims["fhirUser"]


def complete(config: Configuration, issuer: SmartIssuer, redirect_uri: str, code: str,
             verifier: str, now: float) -> Launched:
    """The code exchanged for tokens, the user verified, the launch patient read."""
    try:
        tokens = token_request(config.token, (issuer.client_id, issuer.client_secret), {
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier})
    except TokenFailed as failure:
        raise LaunchFailed(str(failure)) from None
    access, patient = tokens["access_token"], tokens.get("patient")
    if not isinstance(patient, str):
        raise LaunchFailed("The EHR gave no patient context.")
    if not isinstance(tokens.get("id_token"), str):
        raise LaunchFailed("The EHR gave no id token (scope openid fhirUser).")
    try:
        user = _fhir_user(config, issuer, tokens["id_token"])
        resource = _json(httpx.get(f"{issuer.iss}/Patient/{patient}", timeout=TIMEOUT,
                                   headers={"Authorization": f"Bearer {access}",
                                            "Accept": "application/fhir+json"}),
                         "FHIR server")
    except httpx.HTTPError:
        raise LaunchFailed("The EHR's servers could not be reached.") from None
    encounter = tokens.get("encounter")
    return Launched(user, resource, encounter if isinstance(encounter, str) else None, tokens,
                    expiry(tokens, now))

"""The EHR's JWT on every CDS Hooks call, checked as the specification asks.

Signed with ES384 or RS384 (never `none` or a shared secret), `typ` JWT, by an allow-listed
issuer whose key set holds the `kid`; `aud` is the exact URL of the endpoint called (built
from `SIJCARE_PUBLIC_URL`); `exp` and `iat` hold within 60 s; each `jti` is accepted once
until the token expires, across processes (`store.cds_hooks.spend_token_id`). Any failure is
`Refused`, which answers 401 with an empty body; the token itself is never logged.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.utils import base64url_decode

from sijcare.web.cds_hooks.issuers import Issuer, KeySets

ALGORITHMS = ("ES384", "RS384")
LEEWAY = 60
REQUIRED = ("iss", "aud", "exp", "iat", "jti")


class Refused(Exception):
    """The call is not authenticated; deliberately says nothing more."""


class Problem(Exception):
    """A call the service cannot answer (400, 404, 412): JSON `{"detail": ...}` naming why."""

    def __init__(self, status_code: int, detail: str):
        super().__init__(detail)
        self.status_code, self.detail = status_code, detail


@dataclass(frozen=True)
class Caller:
    """Who called, as the verified token says."""

    iss: str
    jti: str
    expires_at: dt.datetime
    sub: str | None


def bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused
    return token.strip()


def _key(issuer: Issuer, header: dict[str, Any], keysets: KeySets) -> jwt.PyJWK:
    kid, jku = header.get("kid"), header.get("jku")
    if not isinstance(kid, str):
        raise Refused
    if jku is not None and not (isinstance(jku, str) and issuer.allows_jku(jku)):
        raise Refused
    url = jku or issuer.jwks_url
    keyset = issuer.jwks if url is None else keysets.get(url, kid)
    key = keyset.key(kid, header["alg"]) if keyset else None
    if key is None:
        raise Refused
    return key


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims as sent, only to find the issuer and its key: PyJWT decodes
    the token again, verified, before anything of it counts."""
    try:
        parts = [json.loads(base64url_decode(part)) for part in token.split(".")[:2]]
    except (ValueError, TypeError, RecursionError, binascii.Error):
        raise Refused from None
    if len(parts) != 2 or not all(isinstance(part, dict) for part in parts):
        raise Refused
    return parts[0], parts[1]


def verify(token: str, audience: str, issuers: dict[str, Issuer],
           keysets: KeySets) -> Caller:
    """The caller the token names, or `Refused`; the jti is not spent here."""
    header, payload = _unverified(token)
    if header.get("alg") not in ALGORITHMS or header.get("typ") != "JWT":
        raise Refused
    issuer = issuers.get(payload.get("iss"))
    if issuer is None:
        raise Refused
    key = _key(issuer, header, keysets)
    try:
        claims = jwt.decode(token, key.key, algorithms=[header["alg"]], audience=audience,
                            issuer=issuer.iss, leeway=LEEWAY,
                            options={"require": list(REQUIRED), "verify_iat": True})
    except jwt.PyJWTError:
        raise Refused from None
    jti, exp = claims["jti"], claims["exp"]
    if not isinstance(jti, str) or not jti or not isinstance(exp, int | float):
        raise Refused
    return Caller(issuer.iss, jti, dt.datetime.fromtimestamp(exp + LEEWAY, dt.UTC)
                  .replace(tzinfo=None), claims.get("sub"))

"""The EHR's JWT on every CDS Hooks call, checked as the specification asks.

Signed with ES384 or RS384 (never `none` or a shared secret), `typ` JWT, by an allow-listed
issuer whose key set holds the `kid`; `aud` is the exact URL of the endpoint called (built
from `SIJCARE_PUBLIC_URL`); `exp` and `iat` hold within 60 s; each `jti` is accepted once
until the token expires, across processes (`store.cds_hooks.spend_token_id`). Any failure is
`Refused`, which answers 401 with an empty body; the token itself is never logged.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt

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
    matches = [k for k in (keyset or {}).get("keys") or [] if k.get("kid") == kid]
    if len(matches) != 1:
        raise Refused
    if matches[0].get("alg", header["alg"]) != header["alg"]:
        raise Refused
    try:
        return _public_key(json.dumps(matches[0], sort_keys=True), header["alg"])
    except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, ValueError, TypeError):
        raise Refused from None


@lru_cache(maxsize=64)
def _public_key(jwk: str, alg: str) -> jwt.PyJWK:
    """A key set's key, built once (an EC or RSA key takes a while to load)."""
    return jwt.PyJWK(json.loads(jwk), algorithm=alg)


def verify(token: str, audience: str, issuers: dict[str, Issuer],
           keysets: KeySets) -> Caller:
    """The caller the token names, or `Refused`; the jti is not spent here."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Refused from None
    if header.get("alg") not in ALGORITHMS or header.get("typ") != "JWT":
        raise Refused
    issuer = issuers.get(unverified.get("iss")) if isinstance(unverified, dict) else None
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

"""The EHRs allowed to call the CDS Hooks service, and their public keys.

`SIJCARE_CDS_ISSUERS` names a JSON file: `{"<iss>": {"jwks_url": "https://..."}}` or
`{"<iss>": {"jwks": {"keys": [...]}}}`, optionally with `"jku": [urls]`, the key-set URLs
the issuer may name in a token's `jku` header (its `jwks_url` is always one). A key set
fetched from a URL is kept for five minutes, and fetched again early (at most once a
minute) when a token names a key it lacks, so an EHR may rotate its keys. Each key object
is built once per key set (`KeySet.key`) and goes with it: an inline set's for the life of
the process (the file is read at start), a fetched set's when it is fetched again.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

KEEP_SECONDS, REFETCH_SECONDS, FETCH_TIMEOUT = 300, 60, 5


class IssuersError(ValueError):
    """The issuers file is missing or malformed; the message names the place."""


class KeySet:
    """A JWK Set, with the key object of each `kid` and `alg` built at most once: building an
    EC or RSA public key costs about as much as checking a signature with it."""

    def __init__(self, data: dict[str, Any]):
        self.keys = [k for k in data.get("keys") or [] if isinstance(k, dict)]
        self._built: dict[tuple[str, str], jwt.PyJWK | None] = {}

    def has(self, kid: str) -> bool:
        return any(k.get("kid") == kid for k in self.keys)

    def key(self, kid: str, alg: str) -> jwt.PyJWK | None:
        """The one key named `kid`, for `alg`; None when the set holds none or several, the
        key is for another algorithm, or it is no usable key."""
        if (kid, alg) not in self._built:  # a race builds it twice, harmlessly
            self._built[kid, alg] = self._build(kid, alg)
        return self._built[kid, alg]

    def _build(self, kid: str, alg: str) -> jwt.PyJWK | None:
        matches = [k for k in self.keys if k.get("kid") == kid]
        if len(matches) != 1 or matches[0].get("alg", alg) != alg:
            return None
        try:
            return jwt.PyJWK(matches[0], algorithm=alg)
        except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Issuer:
    iss: str
    jwks: KeySet | None
    jwks_url: str | None
    jku: tuple[str, ...]

    def allows_jku(self, url: str) -> bool:
        return url == self.jwks_url or url in self.jku


def _issuer(iss: str, entry: object) -> Issuer:
    where = f"SIJCARE_CDS_ISSUERS: issuer {iss!r}"
    if not isinstance(entry, dict):
        raise IssuersError(f"{where} must be an object")
    jwks, url, jku = entry.get("jwks"), entry.get("jwks_url"), entry.get("jku", [])
    if (jwks is None) == (url is None):
        raise IssuersError(f"{where} needs exactly one of 'jwks' and 'jwks_url'")
    if jwks is not None and not (isinstance(jwks, dict) and isinstance(jwks.get("keys"), list)):
        raise IssuersError(f"{where}: 'jwks' must be a JWK Set ({{\"keys\": [...]}})")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://",
                                                                          "http://"))):
        raise IssuersError(f"{where}: 'jwks_url' must be an http(s) URL")
    if not (isinstance(jku, list) and all(isinstance(u, str) for u in jku)):
        raise IssuersError(f"{where}: 'jku' must be a list of URLs")
    return Issuer(iss, None if jwks is None else KeySet(jwks), url, tuple(jku))


def load_issuers(path: Path | None) -> dict[str, Issuer]:
    """The allow-list; an empty one (no file configured) lets nobody in."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IssuersError(f"SIJCARE_CDS_ISSUERS: cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise IssuersError("SIJCARE_CDS_ISSUERS: the file must hold an object of issuers")
    return {iss: _issuer(iss, entry) for iss, entry in data.items()}


class KeySets:
    """Key sets fetched by URL, kept a while; thread-safe (hooks run in worker threads)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, KeySet]] = {}

    def get(self, url: str, kid: str) -> KeySet | None:
        """The key set at `url` holding `kid` if it can be had, else what is known."""
        now = self._clock()
        with self._lock:
            kept = self._kept.get(url)
        fresh = kept and now - kept[0] < KEEP_SECONDS
        if fresh and (kept[1].has(kid) or now - kept[0] < REFETCH_SECONDS):
            return kept[1]
        try:
            answer = httpx.get(url, timeout=FETCH_TIMEOUT, follow_redirects=False)
            answer.raise_for_status()
            keys = answer.json()
        except (httpx.HTTPError, ValueError):
            return kept[1] if kept else None
        if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
            return kept[1] if kept else None
        found = KeySet(keys)
        with self._lock:
            self._kept[url] = (now, found)
        return found

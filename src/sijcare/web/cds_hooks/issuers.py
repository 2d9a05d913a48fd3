"""The EHRs allowed to call the CDS Hooks service, and their public keys.

`SIJCARE_CDS_ISSUERS` names a JSON file: `{"<iss>": {"jwks_url": "https://..."}}` or
`{"<iss>": {"jwks": {"keys": [...]}}}`, optionally with `"jku": [urls]`, the key-set URLs
the issuer may name in a token's `jku` header (its `jwks_url` is always one). A key set
fetched from a URL is kept for five minutes, and fetched again early (at most once a
minute) when a token names a key it lacks, so an EHR may rotate its keys.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

KEEP_SECONDS, REFETCH_SECONDS, FETCH_TIMEOUT = 300, 60, 5


class IssuersError(ValueError):
    """The issuers file is missing or malformed; the message names the place."""


@dataclass(frozen=True)
class Issuer:
    iss: str
    jwks: dict[str, Any] | None
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
    return Issuer(iss, jwks, url, tuple(jku))


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
        self._kept: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, url: str, kid: str) -> dict[str, Any] | None:
        """The key set at `url` holding `kid` if it can be had, else what is known."""
        now = self._clock()
        with self._lock:
            kept = self._kept.get(url)
        fresh = kept and now - kept[0] < KEEP_SECONDS
        has_kid = kept and any(k.get("kid") == kid for k in kept[1].get("keys") or [])
        if fresh and (has_kid or now - kept[0] < REFETCH_SECONDS):
            return kept[1]
        try:
            answer = httpx.get(url, timeout=FETCH_TIMEOUT, follow_redirects=False)
            answer.raise_for_status()
            keys = answer.json()
        except (httpx.HTTPError, ValueError):
            return kept[1] if kept else None
        if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
            return kept[1] if kept else None
        with self._lock:
            self._kept[url] = (now, keys)
        return keys

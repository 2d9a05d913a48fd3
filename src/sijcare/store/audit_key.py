"""The audit key: the secret outside the database that keys the audit chain, its head and the
seals of signed assessments, so whoever owns the database alone cannot rewrite them unseen.

It is SIJCARE_AUDIT_KEY (at least 32 bytes), else a key generated once into the private data
directory. The fallback still lies outside the database, but on the same machine: whoever
holds the data directory holds the key, so `describe` says so and a clinic should set the
variable from a secret store (or keep a copy of the file off the machine).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from sijcare.store.db import data_dir, private_directory
from sijcare.store.key_files import configured_or_file

AUDIT_KEY_ENV = "SIJCARE_AUDIT_KEY"
AUDIT_KEY_FILE = "audit_key"


class AuditKeyError(ValueError):
    """The configured audit key is unusable (too short to key the chain safely)."""


@dataclass(frozen=True)
class AuditKey:
    """The key and where it came from (said by `sijcare audit` commands)."""

    secret: bytes
    source: str  # "SIJCARE_AUDIT_KEY", or the key file's path

    @property
    def from_file(self) -> bool:
        return self.source != AUDIT_KEY_ENV

    def mac(self, purpose: str, message: str) -> str:
        """HMAC-SHA256 (hex) of `message` under the key derived for `purpose`, so an entry's
        MAC can never pass for a head seal, a checkpoint or an assessment seal."""
        derived = hmac.new(self.secret, f"sijcare-{purpose}".encode(), hashlib.sha256).digest()
        return hmac.new(derived, message.encode(), hashlib.sha256).hexdigest()

    def describe(self) -> str:
        if not self.from_file:
            return f"keyed with {AUDIT_KEY_ENV}"
        return (f"keyed with the key file {self.source} ({AUDIT_KEY_ENV} is not set): keep a "
                "copy of it off this machine; whoever holds it and the database can rewrite "
                "the chain")


_loaded: dict[tuple[str | None, str], AuditKey] = {}


def audit_key() -> AuditKey:
    """The audit key as the environment names it now (read once per setting)."""
    configured = os.environ.get(AUDIT_KEY_ENV)
    directory = str(data_dir())
    cached = _loaded.get((configured, directory))
    if cached is None:
        cached = _loaded[(configured, directory)] = _load(configured, Path(directory))
    return cached


def _load(configured: str | None, directory: Path) -> AuditKey:
    path = private_directory(directory) / AUDIT_KEY_FILE
    secret, source = configured_or_file(AUDIT_KEY_ENV, path, AuditKeyError)
    return AuditKey(secret, source)

"""The audit key: the secret outside the database that keys the audit chain, its head and the
seals of signed assessments, so whoever owns the database alone cannot rewrite them unseen.

It is SIJCARE_AUDIT_KEY (at least 32 bytes), else a key generated once into the private data
directory. The fallback still lies outside the database, but on the same machine: whoever
holds the data directory holds the key, so `describe` says so and a clinic should set the
variable from a secret store (or keep a copy of the file off the machine).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sijcare.store.db import data_dir, private_directory

AUDIT_KEY_ENV = "SIJCARE_AUDIT_KEY"
AUDIT_KEY_FILE = "audit_key"
MIN_KEY_BYTES = 32


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
    if configured is not None:
        if len(configured.encode()) < MIN_KEY_BYTES:
            raise AuditKeyError(
                f"{AUDIT_KEY_ENV} is {len(configured.encode())} bytes long; use at least "
                f"{MIN_KEY_BYTES} random bytes (e.g. `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)")
        return AuditKey(configured.encode(), AUDIT_KEY_ENV)
    path = private_directory(directory) / AUDIT_KEY_FILE
    if not path.exists():
        _create(path)
    key = path.read_text().strip().encode()
    if len(key) < MIN_KEY_BYTES:  # never replaced: a new key would break the chain it keyed
        raise AuditKeyError(f"{path}: the audit key is {len(key)} bytes long; it needs "
                            f"{MIN_KEY_BYTES} (restore the file from its copy)")
    return AuditKey(key, str(path))


def _create(path: Path) -> None:
    """Write a new key privately, then link it into place: of two processes creating it at
    once, exactly one key wins and both read it."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):  # the other process's key stands
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)

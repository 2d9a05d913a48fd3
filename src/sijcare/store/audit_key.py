"""The audit key: the secret outside the database that keys the audit chain, its head and the
seals of signed assessments, so whoever owns the database alone cannot rewrite them unseen.

It is SIJCARE_AUDIT_KEY (at least 32 bytes), else a key generated once into the private data
directory. The fallback still lies outside the database, but on the same machine: whoever
holds the data directory holds the key, so `describe` says so and a clinic should set the
variable from a secret store (or keep a copy of the file off the machine).

A rotation (`sijcare keys rotate-audit`) retires the key rather than forgetting it: retired
keys (SIJCARE_RETIRED_AUDIT_KEYS, else `audit_key.retired` beside the key file, one a line)
never key anything new, but verify what they keyed before the chain was handed over.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from sijcare.store.db import data_dir, private_directory
from sijcare.store.key_files import MIN_KEY_BYTES, configured_or_file, write_new_key

AUDIT_KEY_ENV = "SIJCARE_AUDIT_KEY"
RETIRED_ENV = "SIJCARE_RETIRED_AUDIT_KEYS"
AUDIT_KEY_FILE = "audit_key"
RETIRED_FILE = "audit_key.retired"


class AuditKeyError(ValueError):
    """The configured audit key is unusable (too short to key the chain safely)."""


@dataclass(frozen=True)
class AuditKey:
    """The key and where it came from (said by `sijcare audit` commands), with the keys it
    replaced (oldest first), kept only to verify."""

    secret: bytes
    source: str  # "SIJCARE_AUDIT_KEY", or the key file's path
    retired: tuple[bytes, ...] = ()

    @property
    def from_file(self) -> bool:
        return self.source != AUDIT_KEY_ENV

    @property
    def key_id(self) -> str:
        """A name for the key that reveals nothing of it (chain hand-overs name keys so)."""
        return self.mac("audit-key-id", "")[:16]

    def mac(self, purpose: str, message: str) -> str:
        """HMAC-SHA256 (hex) of `message` under the key derived for `purpose`, so an entry's
        MAC can never pass for a head seal, a checkpoint or an assessment seal."""
        derived = hmac.new(self.secret, f"sijcare-{purpose}".encode(), hashlib.sha256).digest()
        return hmac.new(derived, message.encode(), hashlib.sha256).hexdigest()

    def held(self) -> tuple[AuditKey, ...]:
        """This key, then the retired ones, newest first (each on its own, to verify with)."""
        older = tuple(AuditKey(secret, "retired") for secret in reversed(self.retired)
                      if secret != self.secret)
        return (AuditKey(self.secret, self.source), *older)

    def describe(self) -> str:
        retired = (f"; {len(self.retired)} retired key(s) held to verify older entries"
                   if self.retired else "")
        if not self.from_file:
            return f"keyed with {AUDIT_KEY_ENV} (key id {self.key_id}){retired}"
        return (f"keyed with the key file {self.source} (key id {self.key_id}; "
                f"{AUDIT_KEY_ENV} is not set){retired}: keep a copy of it off this machine; "
                "whoever holds it and the database can rewrite the chain")


_loaded: dict[tuple[str | None, str | None, str], AuditKey] = {}


def audit_key(reload: bool = False) -> AuditKey:
    """The audit key as the environment names it now (read once per setting; `reload` reads
    the files again, after another process rotated the key)."""
    setting = (os.environ.get(AUDIT_KEY_ENV), os.environ.get(RETIRED_ENV), str(data_dir()))
    cached = None if reload else _loaded.get(setting)
    if cached is None:
        cached = _loaded[setting] = _load(Path(setting[2]))
    return cached


def retired_path(directory: Path) -> Path:
    return private_directory(directory) / RETIRED_FILE


def _load(directory: Path) -> AuditKey:
    path = private_directory(directory) / AUDIT_KEY_FILE
    secret, source = configured_or_file(AUDIT_KEY_ENV, path, AuditKeyError)
    return AuditKey(secret, source, _retired(directory))


def _retired(directory: Path) -> tuple[bytes, ...]:
    """SIJCARE_RETIRED_AUDIT_KEYS (separated by spaces or commas), else the retired file's
    lines; each as long as a key must be."""
    configured = os.environ.get(RETIRED_ENV)
    if configured is not None:
        where, text = RETIRED_ENV, configured.replace(",", " ")
    else:
        path = retired_path(directory)
        where, text = str(path), path.read_text() if path.exists() else ""
    keys = tuple(word.encode() for word in text.split())
    if any(len(key) < MIN_KEY_BYTES for key in keys):
        raise AuditKeyError(f"{where}: a retired audit key is shorter than {MIN_KEY_BYTES} "
                            "bytes; separate whole keys by spaces, commas or new lines (a key "
                            "with a space or comma in it cannot be retired this way)")
    return keys


def retire_and_replace(directory: Path) -> tuple[AuditKey, AuditKey]:
    """The key file's key retired (appended to the retired file, synced), then a new key
    put in its place at once; the old and new keys. A crash between the two leaves the old
    key both current and retired, which verifies and writes as before."""
    old = audit_key(reload=True)
    retired = retired_path(directory)
    descriptor = os.open(retired, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        handle.write(old.secret.decode() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    write_new_key(private_directory(directory) / AUDIT_KEY_FILE)
    return old, audit_key(reload=True)

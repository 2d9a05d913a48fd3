"""TOTP secrets at rest: encrypted with a key outside the database, so a copy of the database
(a backup, a dump, a read-only leak) does not hand out everyone's authenticator.

The key is SIJCARE_TOTP_KEY (at least 32 bytes), else a key generated once into the private
data directory (`totp_key`). It rotates like the session secret: the previous key (beside
the variable, SIJCARE_PREVIOUS_TOTP_KEY with SIJCARE_PREVIOUS_TOTP_KEY_UNTIL; beside the file,
what `sijcare keys rotate-totp` kept) still opens secrets until its grace ends, and every
`upgrade` (so every `serve`) encrypts again, under the current key, whatever is still in
the clear or under the previous key.

A stored secret is `t1.` and the URL-safe base64 of: 4 bytes naming the key, then AES-SIV
(RFC 5297, from `cryptography`) of the secret's 20 bytes, bound to the user's id, so one
user's encrypted secret copied onto another's row does not open (57 characters; the column
holds 64). Secrets written before encryption are base32 text and are read as such until
the next upgrade encrypts them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sijcare.store.db import data_dir, private_directory
from sijcare.store.key_files import MIN_KEY_BYTES, configured_or_file
from sijcare.store.keyring import PreviousKey, accepted_keys, previous_beside, previous_path
from sijcare.store.models import SecondFactor

TOTP_KEY_ENV = "SIJCARE_TOTP_KEY"
TOTP_KEY_FILE = "totp_key"
PREVIOUS_ENV = "SIJCARE_PREVIOUS_TOTP_KEY"  # with _UNTIL, as keyring.previous_from_env reads
PREFIX = "t1."
COLUMN_LENGTH = 64
log = logging.getLogger("sijcare.store")


class TotpKeyError(ValueError):
    """The TOTP key (or its previous key) is unusable."""


class SecretUnreadable(ValueError):
    """A stored secret opens with no accepted key: the key it was encrypted with is gone (a
    grace period ended before an upgrade re-encrypted it), or the row was tampered with."""


@dataclass(frozen=True)
class TotpKeys:
    """The key that encrypts, where it came from, and the previous one during its grace."""

    current: bytes
    source: str
    previous: PreviousKey | None = None

    def accepted(self, now: float) -> tuple[bytes, ...]:
        return accepted_keys(self.current, self.previous, lambda: now)


_loaded: dict[tuple[object, ...], TotpKeys] = {}


def totp_keys() -> TotpKeys:
    """The keys as the environment and the key files say now; read again when a file changes
    (a rotation by `sijcare keys rotate-totp` reaches running servers without a restart)."""
    directory = private_directory(data_dir())
    path = directory / TOTP_KEY_FILE
    names = (TOTP_KEY_ENV, PREVIOUS_ENV, f"{PREVIOUS_ENV}_UNTIL")
    setting = (*(os.environ.get(name) for name in names), str(directory),
               _changed(path), _changed(previous_path(path)))
    cached = _loaded.get(setting)
    if cached is None:
        cached = _loaded[setting] = _load(path)
    return cached


def _changed(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _load(path: Path) -> TotpKeys:
    secret, source = configured_or_file(TOTP_KEY_ENV, path, TotpKeyError)
    previous = previous_beside(TOTP_KEY_ENV, path)
    if previous is not None and len(previous.secret) < MIN_KEY_BYTES:
        raise TotpKeyError(f"the previous TOTP key is {len(previous.secret)} bytes long; a "
                           f"key needs at least {MIN_KEY_BYTES}")
    return TotpKeys(secret, source, previous)


def _key_id(key: bytes) -> bytes:
    return hmac.new(key, b"sijcare-totp-key-id", hashlib.sha256).digest()[:4]


def _cipher(key: bytes) -> AESSIV:
    """AES-256-SIV under a key derived for this purpose alone."""
    return AESSIV(HKDF(SHA256(), 64, salt=None, info=b"sijcare-totp-secret").derive(key))


def _bound_to(user_id: int) -> list[bytes]:
    return [b"sijcare-totp", str(user_id).encode()]


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def encrypt(user_id: int, secret: str, keys: TotpKeys | None = None) -> str:
    """The base32 `secret` of `user_id`, encrypted under the current key."""
    key = (keys or totp_keys()).current
    raw = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    sealed = _key_id(key) + _cipher(key).encrypt(raw, _bound_to(user_id))
    stored = PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")
    if len(stored) > COLUMN_LENGTH:
        raise ValueError(f"a TOTP secret of {len(raw) * 8} bits does not fit the column")
    return stored


def decrypt(user_id: int, stored: str, keys: TotpKeys | None = None,
            now: float | None = None) -> str:
    """The base32 secret of `user_id` (as it was stored, if from before encryption)."""
    if not is_encrypted(stored):
        return stored
    _, raw = _opened(user_id, stored, keys or totp_keys(), time.time() if now is None else now)
    return base64.b32encode(raw).decode().rstrip("=")


def _opened(user_id: int, stored: str, keys: TotpKeys, now: float) -> tuple[bytes, bytes]:
    """The key that opened `stored`, and the secret's bytes."""
    body = stored.removeprefix(PREFIX)
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise SecretUnreadable(f"the second factor of user {user_id} is damaged") from None
    for key in keys.accepted(now):
        if sealed[:4] == _key_id(key):
            try:
                return key, _cipher(key).decrypt(sealed[4:], _bound_to(user_id))
            except InvalidTag:
                continue
    raise SecretUnreadable(f"the second factor of user {user_id} opens with no key this server "
                           "holds (its key's grace ended, or the row was changed); an admin "
                           "must reset it")


@dataclass(frozen=True)
class Resealed:
    """What `encrypt_stored_secrets` did: secrets encrypted that were clear, re-encrypted from
    the previous key, and left alone because no accepted key opens them."""

    from_clear: int = 0
    from_previous: int = 0
    unreadable: int = 0


def encrypt_stored_secrets(session: Session, keys: TotpKeys | None = None,
                           now: float | None = None) -> Resealed:
    """Every stored secret under the current key. Each row changes only if it still holds
    what was read (an enrolment at the same moment wins). Flushes, never commits."""
    rows = session.execute(select(SecondFactor.user_id, SecondFactor.secret)).all()
    if not rows:
        return Resealed()
    keys = keys or totp_keys()
    now = time.time() if now is None else now
    counts = {"from_clear": 0, "from_previous": 0, "unreadable": 0}
    for user_id, stored in rows:
        if is_encrypted(stored):
            try:
                key, _ = _opened(user_id, stored, keys, now)
            except SecretUnreadable:
                counts["unreadable"] += 1
                continue
            if key == keys.current:
                continue
            counts["from_previous"] += 1
        else:
            counts["from_clear"] += 1
        session.execute(update(SecondFactor).where(
            SecondFactor.user_id == user_id, SecondFactor.secret == stored).values(
            secret=encrypt(user_id, decrypt(user_id, stored, keys, now), keys)))
    if counts["unreadable"]:
        log.warning("%d second-factor secret(s) open with no TOTP key held (%s): those users "
                    "need an admin to reset their second factor", counts["unreadable"],
                    keys.source)
    session.flush()
    return Resealed(**counts)

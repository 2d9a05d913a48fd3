"""Web settings, read once from the environment so tests can build them directly."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sijcare.store.db import data_dir

SECRET_FILE = "secret_key"


def secret_key(directory: Path) -> bytes:
    """SIJCARE_SECRET_KEY, else a key generated once and kept (mode 0600) in `directory`.

    Keeping the generated key means a restart does not sign every clinician out.
    """
    if configured := os.environ.get("SIJCARE_SECRET_KEY"):
        return configured.encode()
    path = directory / SECRET_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the app needs besides the database; `clock` is injectable for timeouts."""

    database_url: str
    secret_key: bytes
    secure_cookies: bool = False
    idle_timeout_seconds: int = 30 * 60
    session_lifetime_seconds: int = 12 * 60 * 60
    login_failures_allowed: int = 5
    login_window_seconds: int = 15 * 60
    actor_cache_seconds: int = 5
    clock: Callable[[], float] = field(default=time.time, compare=False)

    @classmethod
    def from_env(cls, database_url: str) -> Settings:
        return cls(
            database_url=database_url,
            secret_key=secret_key(data_dir()),
            secure_cookies=_flag("SIJCARE_SECURE_COOKIES"),
            idle_timeout_seconds=60 * int(os.environ.get("SIJCARE_IDLE_MINUTES", "30")),
        )

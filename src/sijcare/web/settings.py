"""Web settings, read once from the environment so tests can build them directly."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sijcare.notify import SmtpSettings
from sijcare.store.db import PoolLimits, data_dir, env_number, pool_limits, private_directory
from sijcare.store.key_files import write_new_key
from sijcare.store.keyring import PreviousKey, accepted_keys, previous_beside

SECRET_FILE = "secret_key"
SECRET_ENV = "SIJCARE_SECRET_KEY"
MIN_SECRET_BYTES = 32


class SecretKeyError(ValueError):
    """The configured session secret is unusable (too short to sign sessions safely)."""


def secret_key(directory: Path) -> bytes:
    """SIJCARE_SECRET_KEY, else a key generated once and kept (mode 0600) in `directory`.

    Keeping the generated key means a restart does not sign every clinician out. A key must
    be at least 32 bytes: a shorter SIJCARE_SECRET_KEY (empty included) raises
    `SecretKeyError`, and an empty or short key file is replaced by a new key.
    """
    if (configured := os.environ.get(SECRET_ENV)) is not None:
        key = configured.encode()
        if len(key) < MIN_SECRET_BYTES:
            raise SecretKeyError(f"{SECRET_ENV} is {len(key)} bytes long; use at least "
                                 f"{MIN_SECRET_BYTES} random bytes (e.g. `python3 -c 'import "
                                 "secrets; print(secrets.token_urlsafe(48))'`), or unset it to "
                                 "use a key generated into the data directory")
        return key
    path = directory / SECRET_FILE
    if not path.exists() or len(path.read_text().strip().encode()) < MIN_SECRET_BYTES:
        write_new_key(path)
    return path.read_text().strip().encode()


def _path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def previous_secret_key(directory: Path) -> PreviousKey | None:
    """The key before the last rotation, accepted until its grace ends: beside
    SIJCARE_SECRET_KEY, SIJCARE_PREVIOUS_SECRET_KEY and SIJCARE_PREVIOUS_SECRET_KEY_UNTIL;
    beside the key file, what `sijcare keys rotate-secret` kept."""
    previous = previous_beside(SECRET_ENV, directory / SECRET_FILE)
    if previous is not None and len(previous.secret) < MIN_SECRET_BYTES:
        raise SecretKeyError(f"the previous secret key is {len(previous.secret)} bytes long; "
                             f"a key needs at least {MIN_SECRET_BYTES}")
    return previous


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the app needs besides the database; `clock` is injectable for timeouts."""

    database_url: str
    secret_key: bytes  # signs sessions and links
    previous_secret_key: PreviousKey | None = None  # still accepted until its grace ends
    secure_cookies: bool = False
    idle_timeout_seconds: int = 30 * 60
    session_lifetime_seconds: int = 12 * 60 * 60
    login_failures_allowed: int = 5
    login_window_seconds: int = 15 * 60
    login_failures_per_username: int = 20  # from any address: rotating addresses gains nothing
    actor_cache_seconds: int = 5
    # sign-in and access (issue 25): admin actions ask for the password (and code) again when
    # the last proof is older than this; a break-glass grant lasts this long; the code step
    # of a sign-in must follow the password within this
    reauth_seconds: int = 10 * 60
    break_glass_seconds: int = 60 * 60
    second_step_seconds: int = 5 * 60
    max_body_bytes: int = 1024 * 1024  # larger request bodies answer 413, unread
    # FHIR files uploaded for import (a Synthea patient's life is 0.1-2 MB), and where they
    # wait for the clinician's confirmation (None: a private temporary directory)
    max_upload_bytes: int = 20 * 1024 * 1024
    upload_dir: Path | None = None
    # Requests at a time per process (below the pool's connections, see `admission.py`); one
    # over it waits up to `queue_seconds` for a turn, then answers 503.
    max_requests: int = 9
    queue_seconds: int = 5
    pool: PoolLimits | None = None  # None: `make_engine`'s (the environment's, or the default)
    clock: Callable[[], float] = field(default=time.time, compare=False)
    # the public site: who the clinic is, where mail goes out, how links in it start
    clinic_name: str = "The clinic"
    clinic_phone: str = ""
    clinic_address: str = ""  # the letterhead of visit notes and signed assessments
    public_url: str = "http://127.0.0.1:8000"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    # follow-up: how long a questionnaire link works, how often a point may be reminded
    questionnaire_days: int = 14
    reminder_every_days: int = 7
    # CDS Hooks: the JSON file of the EHRs allowed to call (SIJCARE_CDS_ISSUERS), see
    # web/cds_hooks/issuers.py; None: every call answers 401
    cds_issuers: Path | None = None
    # SMART App Launch: the EHRs sijcare may be launched from (SIJCARE_SMART_ISSUERS), see
    # web/smart/issuers.py; None: every launch is refused
    smart_issuers: Path | None = None
    # where a launch's tokens wait (sealed) for the import of a patient sijcare does not
    # know, see web/ehr/grants.py (None: a private temporary directory)
    grant_dir: Path | None = None

    def accepted_keys(self) -> tuple[bytes, ...]:
        """The keys a session cookie or a link may carry: the current one, then the previous
        one until its grace period ends (by `clock`)."""
        return accepted_keys(self.secret_key, self.previous_secret_key, self.clock)

    @classmethod
    def from_env(cls, database_url: str) -> Settings:
        directory = private_directory(data_dir())
        return cls(
            database_url=database_url,
            secret_key=secret_key(directory),
            previous_secret_key=previous_secret_key(directory),
            secure_cookies=_flag("SIJCARE_SECURE_COOKIES"),
            idle_timeout_seconds=60 * int(os.environ.get("SIJCARE_IDLE_MINUTES", "30")),
            reauth_seconds=60 * int(os.environ.get("SIJCARE_REAUTH_MINUTES", "10")),
            break_glass_seconds=60 * int(os.environ.get("SIJCARE_BREAK_GLASS_MINUTES", "60")),
            max_body_bytes=1024 * int(os.environ.get("SIJCARE_MAX_BODY_KB", "1024")),
            max_upload_bytes=1024 * int(os.environ.get("SIJCARE_MAX_UPLOAD_KB", "20480")),
            upload_dir=private_directory(data_dir()) / "imports",
            grant_dir=private_directory(data_dir()) / "ehr-grants",
            **capacity_from_env(database_url),
            **public_site_from_env(),
            **follow_up_from_env(),
            cds_issuers=_path("SIJCARE_CDS_ISSUERS"),
            smart_issuers=_path("SIJCARE_SMART_ISSUERS"),
        )


def capacity_from_env(database_url: str) -> dict[str, object]:
    """The pool (SIJCARE_DB_POOL_SIZE, _MAX_OVERFLOW, _POOL_TIMEOUT), SIJCARE_MAX_REQUESTS
    (default and most: the pool's connections less the one the mail worker may hold) and
    SIJCARE_QUEUE_SECONDS (1-60, default 5)."""
    pool = pool_limits(database_url)
    most = max(1, pool.connections - 1)
    return {"pool": pool, "max_requests": env_number("SIJCARE_MAX_REQUESTS", most, 1, most),
            "queue_seconds": env_number("SIJCARE_QUEUE_SECONDS", Settings.queue_seconds, 1, 60)}


def public_site_from_env() -> dict[str, object]:
    """SIJCARE_CLINIC_NAME / _PHONE / _ADDRESS, SIJCARE_PUBLIC_URL and SIJCARE_SMTP_*."""
    env = os.environ.get
    port = env("SIJCARE_SMTP_PORT", "").strip()
    security = env("SIJCARE_SMTP_SECURITY", "none").strip().lower()
    if port and not port.isdigit():
        raise ValueError(f"SIJCARE_SMTP_PORT must be a port number; got {port!r}")
    return {
        "clinic_name": env("SIJCARE_CLINIC_NAME", "").strip() or Settings.clinic_name,
        "clinic_phone": env("SIJCARE_CLINIC_PHONE", "").strip(),
        "clinic_address": env("SIJCARE_CLINIC_ADDRESS", "").strip(),
        "public_url": (env("SIJCARE_PUBLIC_URL", "").strip() or Settings.public_url).rstrip("/"),
        "smtp": SmtpSettings(
            host=env("SIJCARE_SMTP_HOST", "").strip() or SmtpSettings.host,
            port=int(port) if port else {"tls": 465, "starttls": 587}.get(security, 25),
            security=security,  # type: ignore[arg-type]  # checked by SmtpSettings
            username=env("SIJCARE_SMTP_USERNAME") or None,
            password=env("SIJCARE_SMTP_PASSWORD") or None,
            sender=env("SIJCARE_SMTP_FROM", "").strip() or SmtpSettings.sender,
            ca_file=env("SIJCARE_SMTP_CA_FILE") or None,
        ),
    }


def follow_up_from_env() -> dict[str, int]:
    """SIJCARE_QUESTIONNAIRE_DAYS (link lifetime) and SIJCARE_REMINDER_DAYS (reminder gap)."""
    values = {}
    for name, key in (("SIJCARE_QUESTIONNAIRE_DAYS", "questionnaire_days"),
                      ("SIJCARE_REMINDER_DAYS", "reminder_every_days")):
        text = os.environ.get(name, "").strip()
        if text:
            if not text.isdigit() or not 1 <= int(text) <= 365:
                raise ValueError(f"{name} must be a whole number of days from 1 to 365")
            values[key] = int(text)
    return values

"""Keys that live outside the database: an environment variable, else a file generated once in
the private data directory. The audit key and the TOTP key are read this way; a key never
changes under a running clinic except by a rotation, which keeps the old key beside it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

MIN_KEY_BYTES = 32


def configured_or_file(env: str, path: Path, error: type[ValueError]) -> tuple[bytes, str]:
    """The key and where it came from: `env` (at least 32 bytes), else the file at `path`,
    made now if missing. A short key raises `error`; a short file is never replaced (a new key
    would orphan what the old one keyed)."""
    configured = os.environ.get(env)
    if configured is not None:
        if len(configured.encode()) < MIN_KEY_BYTES:
            raise error(f"{env} is {len(configured.encode())} bytes long; use at least "
                        f"{MIN_KEY_BYTES} random bytes (e.g. `python3 -c 'import secrets; "
                        "print(secrets.token_urlsafe(48))'`)")
        return configured.encode(), env
    if not path.exists():
        create_once(path)
    key = path.read_text().strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise error(f"{path}: the key is {len(key)} bytes long; it needs {MIN_KEY_BYTES} "
                    "(restore the file from its copy)")
    return key, str(path)


def write_new_key(path: Path) -> None:
    """A new key, written to a private (0600) temporary file and then moved into place over
    whatever was there (a rotation, or a session secret too short to use)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def create_once(path: Path) -> None:
    """Write a new key privately (0600), then link it into place: of two processes creating it
    at once, exactly one key wins and both read it."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):  # the other process's key stands
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)

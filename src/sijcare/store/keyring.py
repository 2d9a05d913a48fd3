"""Key rotation: a new key signs from now on, the previous one is still accepted until its
grace period ends, so sessions, questionnaire links and research-export linkage made with it
keep working through a rotation, and stop working on a date everyone can read.

The previous key is kept beside the current key file as `<name>.previous` (JSON: the key and
the end of its grace, mode 0600), written by `rotate_key_file`; a key configured in the
environment names its predecessor in the environment instead (`previous_from_env`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MAX_GRACE_DAYS = 365


class KeyRotationError(ValueError):
    """A previous key or its grace period is given wrongly."""


@dataclass(frozen=True)
class PreviousKey:
    """A key that signed before the rotation, accepted until `until` (epoch seconds)."""

    secret: bytes
    until: float

    def accepted(self, now: float) -> bool:
        return now < self.until

    @property
    def until_text(self) -> str:
        return dt.datetime.fromtimestamp(self.until, dt.UTC).isoformat(timespec="seconds")


def accepted_keys(current: bytes, previous: PreviousKey | None,
                  clock: Callable[[], float]) -> tuple[bytes, ...]:
    """The current key first (it signs), then the previous one while its grace runs."""
    if previous is not None and previous.accepted(clock()):
        return (current, previous.secret)
    return (current,)


def parse_until(text: str, where: str) -> float:
    """An ISO 8601 date (midnight UTC) or date and time (UTC unless it says otherwise)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise KeyRotationError(f"{where} must be an ISO 8601 date or date and time, e.g. "
                               f"2027-03-31; got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def previous_from_env(key_env: str) -> PreviousKey | None:
    """`<key_env>` with `_PREVIOUS` and `_PREVIOUS_UNTIL` before the name's end, e.g.
    SIJCARE_PREVIOUS_SECRET_KEY and SIJCARE_PREVIOUS_SECRET_KEY_UNTIL; the end is required."""
    name = key_env.replace("SIJCARE_", "SIJCARE_PREVIOUS_", 1)
    secret = os.environ.get(name)
    if not secret:
        return None
    until = os.environ.get(f"{name}_UNTIL")
    if not until:
        raise KeyRotationError(f"{name} is set without {name}_UNTIL: say when the previous "
                               "key stops being accepted (an ISO 8601 date, e.g. 2027-03-31)")
    return PreviousKey(secret.encode(), parse_until(until, f"{name}_UNTIL"))


def previous_beside(key_env: str, key_path: Path) -> PreviousKey | None:
    """The previous key of a key set in `key_env` (named in the environment too), else of the
    key file at `key_path` (kept beside it by a rotation)."""
    if os.environ.get(key_env) is not None:
        return previous_from_env(key_env)
    return previous_from_file(key_path)


def previous_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".previous")


def previous_from_file(key_path: Path) -> PreviousKey | None:
    """The previous key kept beside `key_path` by `rotate_key_file`, if any."""
    path = previous_path(key_path)
    if not path.exists():
        return None
    try:
        kept = json.loads(path.read_text())
        return PreviousKey(kept["key"].encode(), parse_until(kept["until"], str(path)))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise KeyRotationError(f"{path}: not a previous key written by a rotation") from None


def rotate_key_file(key_path: Path, grace_days: int, write_new: Callable[[Path], None],
                    now: float) -> PreviousKey:
    """Keep the key in `key_path` as the previous one for `grace_days`, then write a new key
    with `write_new` (the same writer that made the first key)."""
    if not 1 <= grace_days <= MAX_GRACE_DAYS:
        raise KeyRotationError(f"the grace period must be 1 to {MAX_GRACE_DAYS} days")
    if not key_path.exists():
        raise KeyRotationError(f"{key_path}: no key to rotate")
    previous = PreviousKey(key_path.read_text().strip().encode(), now + grace_days * 86400)
    kept = previous_path(key_path)
    partial = kept.with_name(kept.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"key": previous.secret.decode(), "until": previous.until_text}, handle)
    os.replace(partial, kept)
    key_path.unlink()
    write_new(key_path)
    return previous

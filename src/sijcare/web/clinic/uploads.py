"""Uploaded FHIR files kept between the import's summary and the clinician's confirmation of
patients matched by name and birth date (the page's `--same`/`--new`), and the summary's CSV.

The files name patients, so they sit in a private directory (0700, files 0600), are opened
only by the clinician who uploaded them, and are deleted after `KEEP_SECONDS`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

KEEP_SECONDS = 60 * 60
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
REPORT = "report.csv"
OWNER = "owner.json"


class UploadGone(LookupError):
    """No such upload of this clinician's (never made, someone else's, or expired)."""


@dataclass(frozen=True)
class Upload:
    token: str
    clinic_id: int
    files: list[tuple[str, bytes]]  # name, content


def _write(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


class Uploads:
    def __init__(self, directory: Path, clock: Callable[[], float] = time.time):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory, self.clock = directory, clock

    def keep(self, actor_id: int, clinic_id: int, files: list[tuple[str, bytes]]) -> str:
        self._expire()
        token = secrets.token_urlsafe(16)
        place = self.directory / token
        place.mkdir(mode=0o700)
        for number, (_, data) in enumerate(files):
            _write(place / str(number), data)
        _write(place / OWNER, json.dumps({"actor": actor_id, "clinic": clinic_id,
                                          "names": [n for n, _ in files],
                                          "at": self.clock()}).encode())
        return token

    def _place(self, token: str, actor_id: int) -> tuple[Path, dict]:
        place = self.directory / token
        if not TOKEN.fullmatch(token) or not (place / OWNER).exists():
            raise UploadGone(token)
        owner = json.loads((place / OWNER).read_bytes())
        if owner["actor"] != actor_id or self.clock() - owner["at"] > KEEP_SECONDS:
            raise UploadGone(token)
        return place, owner

    def open(self, token: str, actor_id: int) -> Upload:
        place, owner = self._place(token, actor_id)
        return Upload(token, owner["clinic"], [(name, (place / str(n)).read_bytes())
                                               for n, name in enumerate(owner["names"])])

    def keep_report(self, token: str, text: str) -> None:
        _write(self.directory / token / REPORT, text.encode())

    def report(self, token: str, actor_id: int) -> str:
        place, _ = self._place(token, actor_id)
        return (place / REPORT).read_text(encoding="utf-8")

    def _expire(self) -> None:
        for place in self.directory.iterdir():
            owner = place / OWNER
            if owner.exists() and self.clock() - json.loads(owner.read_bytes())["at"] > \
                    KEEP_SECONDS:
                shutil.rmtree(place, ignore_errors=True)

"""What sijcare keeps of a SMART launch past its callback: the EHR's tokens, server-side, for
the clinician who launched, while they decide to import the launch patient's record.

sijcare is the EHR's confidential client: the token endpoint is asked with HTTP Basic client
credentials, for the code (`smart.client`) and for a new access token from the refresh token
the EHR gave (`grant_type=refresh_token`, SMART App Launch 2.x), which `fresh` uses when the
access token has expired, by its `expires_in` or by the FHIR server's 401, instead of failing.

A grant is sealed (Fernet, with a key drawn from the app's secret) in a file of its own in a
private directory (0700, files 0600), opened only by the user who launched, and forgotten an
hour after the launch or once used; neither the browser nor the database sees a token.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography.fernet import Fernet, InvalidToken

from sijcare.web.ehr.fhir import Unauthorized

TIMEOUT = 10
KEEP_SECONDS = 60 * 60
EARLY = 30  # an access token this close to its expiry is refreshed before use
HANDLE = re.compile(r"[A-Za-z0-9_-]{22}")
T = TypeVar("T")


class TokenFailed(Exception):
    """The EHR's token endpoint refused or could not be reached; the message is safe to
    show (no token, no secret)."""


class GrantGone(LookupError):
    """No such grant of this user's (never made, someone else's, expired or used)."""


class GrantExpired(Exception):
    """The access token expired and the EHR gave no refresh token (or refused it)."""


@dataclass(frozen=True)
class Grant:
    """The tokens of one launch, and the launch patient as the EHR's FHIR server has them."""

    owner: int  # the sijcare user who launched
    iss: str  # the EHR's FHIR base
    token_url: str
    patient: str  # the EHR's id of the launch patient
    access_token: str
    refresh_token: str | None
    expires_at: float | None  # by this app's clock; None: the EHR did not say
    shown: dict[str, str]  # name and birth date, for the clinician to recognise the patient
    kept_at: float = 0.0  # when the launch kept it (`Grants.keep`)


def token_request(url: str, client: tuple[str, str], data: dict[str, str]) -> dict[str, Any]:
    """A token endpoint's answer (a JSON object with an access token) to `data`, the client
    authenticated with HTTP Basic."""
    try:
        answer = httpx.post(url, timeout=TIMEOUT, auth=client, data=data)
    except httpx.HTTPError:
        raise TokenFailed("The EHR's token endpoint could not be reached.") from None
    if answer.status_code != 200:
        raise TokenFailed(f"The EHR's token endpoint answered {answer.status_code}.")
    try:
        found = answer.json()
    except ValueError:
        raise TokenFailed("The EHR's token endpoint did not answer JSON.") from None
    if not isinstance(found, dict) or not isinstance(found.get("access_token"), str):
        raise TokenFailed("The EHR's token endpoint gave no access token.")
    return found


def expiry(tokens: dict[str, Any], now: float) -> float | None:
    expires_in = tokens.get("expires_in")
    return now + expires_in if isinstance(expires_in, int | float) else None


def refreshed(grant: Grant, client: tuple[str, str], now: float) -> Grant:
    """The grant with a new access token from its refresh token (and the new refresh token,
    if the EHR rotates them); GrantExpired without one, or when the EHR refuses it."""
    if not grant.refresh_token:
        raise GrantExpired
    try:
        tokens = token_request(grant.token_url, client, {
            "grant_type": "refresh_token", "refresh_token": grant.refresh_token})
    except TokenFailed:
        raise GrantExpired from None
    refresh = tokens.get("refresh_token")
    return dataclasses.replace(grant, access_token=tokens["access_token"],
                               refresh_token=refresh if isinstance(refresh, str)
                               else grant.refresh_token, expires_at=expiry(tokens, now))


class Grants:
    """The kept grants, one sealed file each."""

    def __init__(self, directory: Path, secret: bytes, clock: Callable[[], float] = time.time):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory, self.clock = directory, clock
        derived = hashlib.sha256(b"sijcare-ehr-grant|" + secret).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def _write(self, handle: str, grant: Grant) -> None:
        sealed = self._fernet.encrypt(json.dumps(dataclasses.asdict(grant)).encode())
        temporary = self.directory / f".{handle}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle_file:
            handle_file.write(sealed)
        temporary.replace(self.directory / handle)  # whole or not at all

    def keep(self, grant: Grant) -> str:
        """The handle of the kept grant (for the user's next request to name)."""
        self._expire()
        handle = secrets.token_urlsafe(16)
        self._write(handle, dataclasses.replace(grant, kept_at=self.clock()))
        return handle

    def open(self, handle: str, owner: int) -> Grant:
        place = self.directory / handle
        if not HANDLE.fullmatch(handle) or not place.exists():
            raise GrantGone(handle)
        try:
            grant = Grant(**json.loads(self._fernet.decrypt(place.read_bytes())))
        except (InvalidToken, OSError, ValueError, TypeError):  # sealed with an old secret
            raise GrantGone(handle) from None
        if grant.owner != owner or self.clock() - grant.kept_at > KEEP_SECONDS:
            raise GrantGone(handle)
        return grant

    def forget(self, handle: str) -> None:
        if HANDLE.fullmatch(handle):
            (self.directory / handle).unlink(missing_ok=True)

    def fresh(self, handle: str, grant: Grant, client: tuple[str, str],
              use: Callable[[str], T]) -> T:
        """`use(access_token)`, the token refreshed first when it has expired, or once when
        the FHIR server refuses it (401); the refreshed grant is kept under its handle.
        GrantExpired when the token expired and cannot be refreshed."""
        if grant.expires_at is not None and grant.expires_at - EARLY <= self.clock():
            grant = self._refresh(handle, grant, client)
        try:
            return use(grant.access_token)
        except Unauthorized:
            grant = self._refresh(handle, grant, client)
        return use(grant.access_token)

    def _refresh(self, handle: str, grant: Grant, client: tuple[str, str]) -> Grant:
        grant = refreshed(grant, client, self.clock())
        self._write(handle, grant)
        return grant

    def _expire(self) -> None:
        for place in self.directory.iterdir():
            try:
                if self.clock() - place.stat().st_mtime > KEEP_SECONDS:
                    place.unlink()
            except OSError:  # another process got there first
                continue

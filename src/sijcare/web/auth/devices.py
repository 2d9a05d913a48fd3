"""Devices: a long-lived random cookie names the browser, so a sign-in from a browser the
user never signed in from is announced to them (`notify/security.py`).

Only the cookie's SHA-256 is stored (`known_devices`). The very first sign-in of an account
announces nothing: every account starts on a browser it had not used.
"""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from sijcare.store.models import KnownDevice

COOKIE = "sijcare_device"
LIFETIME_SECONDS = 400 * 24 * 3600  # the longest browsers keep a cookie


def _device_id(request: Request) -> str:
    """The browser's id, or a new one that `remember_device` will set."""
    given = request.cookies.get(COOKIE, "")
    if 20 <= len(given) <= 64 and all(c.isalnum() or c in "-_" for c in given):
        return given
    if not hasattr(request.state, "new_device_id"):
        request.state.new_device_id = secrets.token_urlsafe(32)
    return request.state.new_device_id


def recognise_device(request: Request, db: Session, user_id: int) -> bool:
    """Remember this browser for the user; True if it is new to an account that has signed
    in elsewhere before."""
    digest = hashlib.sha256(_device_id(request).encode()).hexdigest()
    if db.scalar(select(KnownDevice.id).where(KnownDevice.user_id == user_id,
                                              KnownDevice.device_hash == digest)):
        return False
    before = db.scalar(select(func.count(KnownDevice.id)).where(KnownDevice.user_id == user_id))
    db.add(KnownDevice(user_id=user_id, device_hash=digest))
    db.flush()
    return bool(before)


def remember_device(request: Request, response: Response) -> Response:
    """Set the device cookie on the sign-in's answer if the browser had none."""
    new = getattr(request.state, "new_device_id", None)
    if new:
        secure = request.app.state.settings.secure_cookies or request.url.scheme == "https"
        response.set_cookie(COOKIE, new, max_age=LIFETIME_SECONDS, httponly=True,
                            samesite="lax", secure=secure)
    return response

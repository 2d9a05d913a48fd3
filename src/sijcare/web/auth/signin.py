"""Signing in and out, shared by the sign-in page and `POST /api/v1/session`.

Every attempt is audited (success, wrong credentials, throttled); a throttled attempt is
refused even with the right password, so guessing cannot go on in the background. Only
failures are counted (see `throttle.py`): the count is read before the (slow) password check
and again after a right one, and the transaction ends before the check, so no connection or
SQLite write lock is held while the password is hashed. A sign-in is a row of
`web_sessions`; signing out deletes it, in every server process at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from sijcare.store import User, get_user_by_username, record_event
from sijcare.store.users import note_sign_in
from sijcare.store.web_sessions import end_web_session, forget_stale_sessions, open_web_session
from sijcare.web.auth.passwords import verify_password
from sijcare.web.auth.throttle import Key, LoginThrottle


@dataclass
class SignInRefused(Exception):
    status_code: int
    message: str
    retry_after: int | None = None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def sign_in(request: Request, db: Session, username: str, password: str) -> User:
    """The signed-in user, with the session rotated; or `SignInRefused` (401 or 429)."""
    throttle, settings = request.app.state.throttle, request.app.state.settings
    address = client_address(request)
    key = throttle.key(username, address)
    user = get_user_by_username(db, username.strip().lower())
    actor_id = user.id if user else None
    _refuse_if_locked(db, throttle, key, actor_id, username, address)
    db.commit()  # nothing held while the password is checked
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid:
        throttle.failed(db, key)
        record_event(db, actor_id, "sign_in", "user", username[:64],
                     detail={"outcome": "failed", "address": address})
        db.commit()  # counted at once: other attempts look at the count
        raise SignInRefused(401, "Wrong username or password.")
    if not user.active:  # said only to whoever knows the password: it tells a guesser nothing
        record_event(db, actor_id, "sign_in", "user", username[:64],
                     detail={"outcome": "deactivated", "address": address})
        db.commit()
        raise SignInRefused(403, "This account is deactivated. Ask your clinic's "
                                 "administrator to reactivate it.")
    _refuse_if_locked(db, throttle, key, actor_id, username, address)  # failed meanwhile?
    throttle.succeeded(db, key)
    note_sign_in(db, user)
    renew_sign_in(request, db, user)
    forget_stale_sessions(db, settings.clock() - settings.session_lifetime_seconds)
    record_event(db, user.id, "sign_in", "user", str(user.id),
                 detail={"outcome": "signed_in", "address": address})
    return user


def _refuse_if_locked(db: Session, throttle: LoginThrottle, key: Key, actor_id: int | None,
                      username: str, address: str) -> None:
    """SignInRefused (429, audited) while the username is locked for this address."""
    wait = throttle.wait(db, key)
    if wait is not None:
        record_event(db, actor_id, "sign_in", "user", username[:64],
                     detail={"outcome": "throttled", "address": address})
        minutes = -(-wait // 60)
        raise SignInRefused(429, f"Too many failed attempts. Try again in {minutes} minute"
                                 f"{'s' if minutes > 1 else ''}.", wait)


def renew_sign_in(request: Request, db: Session, user: User) -> None:
    """Sign `user` in on this browser under a new token (at sign-in, and after the user's own
    password change, which ends every sign-in bound to the old password)."""
    session = request.state.session
    if session.user_id is not None:
        end_web_session(db, session.nonce)
    session.sign_in(user.id, user.password_hash)
    assert session.password_fingerprint is not None
    open_web_session(db, session.nonce, user.id, session.password_fingerprint,
                     request.app.state.settings.clock())


def sign_out(request: Request, db: Session) -> None:
    session = request.state.session
    if session.user_id is not None:
        end_web_session(db, session.nonce)
        record_event(db, session.user_id, "sign_out", "user", str(session.user_id))
    session.sign_out()

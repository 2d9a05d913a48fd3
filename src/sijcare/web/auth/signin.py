"""Signing in and out, shared by the sign-in page and `POST /api/v1/session`.

A user with a second factor signs in in two steps: the password, then a one-time code (or a
recovery code); both steps count failures under the same username, and only a complete
sign-in forgets them, so a known password does not buy endless guesses at the code.
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

from sijcare.notify.security import notify_security
from sijcare.store import User, get_user_by_username, record_event
from sijcare.store.second_factors import enrolled
from sijcare.store.users import note_sign_in
from sijcare.store.web_sessions import end_web_session, forget_stale_sessions, open_web_session
from sijcare.web.auth.devices import recognise_device
from sijcare.web.auth.passwords import verify_password
from sijcare.web.auth.second_factor import verify_code
from sijcare.web.auth.throttle import Key, LoginThrottle


@dataclass
class SecondFactorNeeded(Exception):
    """The password was right; the user's one-time code must follow."""

    user: User


@dataclass
class SignInRefused(Exception):
    status_code: int
    message: str
    retry_after: int | None = None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def sign_in(request: Request, db: Session, username: str, password: str,
            code: str | None = None) -> User:
    """The signed-in user, with the session rotated; or `SignInRefused` (401 or 429), or
    `SecondFactorNeeded` when the password was right and the user has a second factor but
    no `code` came with it (the page then asks for it; the API wants it in the same call)."""
    user = check_password(request, db, username, password)
    if enrolled(db, user.id):
        if code is None:
            raise SecondFactorNeeded(user)
        complete_sign_in(request, db, user, check_code(request, db, user, code))
    else:
        complete_sign_in(request, db, user)
    return user


def check_password(request: Request, db: Session, username: str, password: str) -> User:
    """The active user these credentials name, or SignInRefused; a failure is counted and
    audited. Nothing is forgotten on success: failures of the second step still count."""
    throttle = request.app.state.throttle
    address = client_address(request)
    key = throttle.key(username, address)
    user = get_user_by_username(db, username.strip().lower())
    actor_id = user.id if user else None
    _refuse_if_locked(db, throttle, key, actor_id, username, address)
    db.commit()  # nothing held while the password is checked
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid:
        count_failure(request, db, key, user, "failed")
        raise SignInRefused(401, "Wrong username or password.")
    if not user.active:  # said only to whoever knows the password: it tells a guesser nothing
        record_event(db, actor_id, "sign_in", "user", username[:64],
                     detail={"outcome": "deactivated", "address": address})
        db.commit()
        raise SignInRefused(403, "This account is deactivated. Ask your clinic's "
                                 "administrator to reactivate it.")
    _refuse_if_locked(db, throttle, key, actor_id, username, address)  # failed meanwhile?
    return user


def check_code(request: Request, db: Session, user: User, code: str) -> str:
    """The second step: which factor the code was ("totp" or "recovery_code"), or
    SignInRefused; throttled and counted like the password, under the same username."""
    throttle = request.app.state.throttle
    address = client_address(request)
    key = throttle.key(user.username, address)
    _refuse_if_locked(db, throttle, key, user.id, user.username, address)
    factor = verify_code(db, user.id, code, request.app.state.settings.clock())
    if factor is None:
        count_failure(request, db, key, user, "wrong_code")
        raise SignInRefused(401, "Wrong or already used code.")
    return factor


def count_failure(request: Request, db: Session, key: Key, user: User | None,
                  outcome: str) -> None:
    """One failure, audited and committed at once (other attempts look at the count); the
    failure that locks the username tells the user and the admins."""
    throttle = request.app.state.throttle
    username, address = key
    throttle.failed(db, key)
    record_event(db, user.id if user else None, "sign_in", "user", username[:64],
                 detail={"outcome": outcome, "address": address})
    if throttle.wait(db, key) is not None:
        notify_security(db, "lockout", user, admins=True, username=username, address=address)
    db.commit()


def complete_sign_in(request: Request, db: Session, user: User,
                     factor: str | None = None) -> None:
    """Every check passed: the failures from this address are forgotten, the browser is
    signed in under a new token, the sign-in audited, and a new device announced."""
    throttle, settings = request.app.state.throttle, request.app.state.settings
    address = client_address(request)
    throttle.succeeded(db, throttle.key(user.username, address))
    note_sign_in(db, user)
    renew_sign_in(request, db, user)
    forget_stale_sessions(db, settings.clock() - settings.session_lifetime_seconds)
    detail = {"outcome": "signed_in", "address": address}
    if factor:
        detail["second_factor"] = factor
    if recognise_device(request, db, user.id):
        detail["new_device"] = True
        notify_security(db, "new_device", user, admins=user.role == "admin", address=address)
    record_event(db, user.id, "sign_in", "user", str(user.id), detail=detail)


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

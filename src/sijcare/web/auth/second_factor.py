"""The second factor of a sign-in: checking a one-time or recovery code against the store,
enrolling a new authenticator, and whether an actor must enrol before anything else."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from sijcare.store.models import SecondFactor
from sijcare.store.second_factors import (
    accept_step,
    confirm_enrolment,
    factor_of,
    recovery_hash,
    secret_of,
    use_recovery_code,
)
from sijcare.store.totp_secrets import SecretUnreadable
from sijcare.web.auth.totp import looks_like_recovery_code, matching_step, new_recovery_codes

log = logging.getLogger("sijcare.web")


def _readable(factor: SecondFactor) -> str | None:
    """The secret, or None (said in the log) when no key this server holds opens it: the
    user's recovery codes still work, and an admin's reset gives a new authenticator."""
    try:
        return secret_of(factor)
    except SecretUnreadable as error:
        log.error("%s", error)
        return None


def verify_code(db: Session, user_id: int, code: str, now: float) -> str | None:
    """"totp" or "recovery_code" if `code` is a valid, unused one of the user's; else None."""
    factor = factor_of(db, user_id)
    if factor is None or factor.enrolled_at is None or len(code) > 40:
        return None
    step = matching_step(secret, code, now) if (secret := _readable(factor)) else None
    if step is not None:
        return "totp" if accept_step(db, user_id, step) else None
    if looks_like_recovery_code(code) and use_recovery_code(db, user_id, code):
        return "recovery_code"
    return None


def finish_enrolment(db: Session, user_id: int, code: str, now: float) -> list[str] | None:
    """The recovery codes to show once, if `code` proves the authenticator holds the new
    secret; None if it does not."""
    factor = factor_of(db, user_id)
    if factor is None or factor.enrolled_at is not None:
        return None
    step = matching_step(secret, code, now) if (secret := _readable(factor)) else None
    if step is None:
        return None
    codes = new_recovery_codes()
    confirm_enrolment(db, user_id, step, [recovery_hash(c) for c in codes])
    return codes

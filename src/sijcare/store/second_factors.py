"""Second factors as the database holds them: a TOTP secret per user (encrypted,
`totp_secrets.py`), one-time recovery codes (hashed), and whether a user must have one. The
codes themselves are checked in the web layer (`web/auth/totp.py`); this module only keeps
state. Functions flush but never commit.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sijcare.store.models import Clinic, Membership, RecoveryCode, SecondFactor, User, utcnow
from sijcare.store.totp_secrets import decrypt, encrypt


def recovery_hash(code: str) -> str:
    """Codes are random (50 bits), so a plain SHA-256 of the normalised code suffices."""
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def factor_of(db: Session, user_id: int) -> SecondFactor | None:
    return db.get(SecondFactor, user_id)


def enrolled(db: Session, user_id: int) -> bool:
    factor = db.get(SecondFactor, user_id)
    return factor is not None and factor.enrolled_at is not None


def second_factor_required(db: Session, user: User) -> bool:
    """Admins always; clinicians when one of their clinics requires it."""
    if user.role == "admin":
        return True
    if user.role != "clinician":
        return False
    return bool(db.scalar(select(Clinic.id).join(Membership, Membership.clinic_id == Clinic.id)
                          .where(Membership.user_id == user.id,
                                 Clinic.second_factor_required.is_(True)).limit(1)))


def start_enrolment(db: Session, user_id: int, secret: str) -> SecondFactor:
    """A new, unconfirmed secret (replacing an unconfirmed one), stored encrypted; an enrolled
    factor stays."""
    factor = db.get(SecondFactor, user_id)
    if factor is not None and factor.enrolled_at is not None:
        raise ValueError("already enrolled")
    stored = encrypt(user_id, secret)
    if factor is None:
        factor = SecondFactor(user_id=user_id, secret=stored)
        db.add(factor)
    else:
        factor.secret = stored
    db.flush()
    return factor


def secret_of(factor: SecondFactor) -> str:
    """The factor's base32 secret, decrypted (raises `SecretUnreadable` if no key opens it)."""
    return decrypt(factor.user_id, factor.secret)


def confirm_enrolment(db: Session, user_id: int, step: int, code_hashes: list[str]) -> None:
    """The first right code: the factor is enrolled, with fresh recovery codes."""
    factor = db.get(SecondFactor, user_id)
    assert factor is not None
    factor.enrolled_at, factor.last_step = utcnow(), step
    replace_recovery_codes(db, user_id, code_hashes)


def accept_step(db: Session, user_id: int, step: int) -> bool:
    """Record `step` as used, only if it is later than the last one used (no replays, also
    from two requests at once: a single conditional UPDATE)."""
    done = db.execute(update(SecondFactor).where(
        SecondFactor.user_id == user_id, SecondFactor.enrolled_at.is_not(None),
        (SecondFactor.last_step.is_(None)) | (SecondFactor.last_step < step))
        .values(last_step=step))
    return done.rowcount == 1


def replace_recovery_codes(db: Session, user_id: int, code_hashes: list[str]) -> None:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in code_hashes)
    db.flush()


def use_recovery_code(db: Session, user_id: int, code: str) -> bool:
    """Spend one unused recovery code; False if there is none like it."""
    done = db.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.code_hash == recovery_hash(code),
        RecoveryCode.used_at.is_(None)).values(used_at=utcnow()))
    return done.rowcount == 1


def recovery_codes_left(db: Session, user_id: int) -> int:
    return len(db.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))).all())


def remove_second_factor(db: Session, user_id: int) -> bool:
    """An admin's reset: the factor and its recovery codes are gone; was there one?"""
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    return db.execute(delete(SecondFactor).where(SecondFactor.user_id == user_id)).rowcount == 1


def enrolled_users(db: Session) -> set[int]:
    """Ids of the users with an enrolled second factor (for the admins' user list)."""
    return set(db.scalars(select(SecondFactor.user_id).where(
        SecondFactor.enrolled_at.is_not(None))))

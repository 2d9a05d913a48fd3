"""Time-based one-time codes (RFC 6238, with `pyotp`) and recovery codes: making them,
checking them, and drawing the enrolment QR code as inline SVG (`segno`, no network).

A code is accepted for its 30-second step and the one either side (clock drift); which step
matched is returned, so the store can refuse a code used before (`accept_step`).
"""

from __future__ import annotations

import hmac
import secrets

import pyotp
import segno

ISSUER = "sijcare"
DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, username: str, clinic_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username,
                                               issuer_name=f"{ISSUER} {clinic_name}".strip())


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code, for the enrolment page."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                                 title="Authenticator QR code")


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step `code` belongs to (now or one step either side), or None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp, current = pyotp.TOTP(secret), int(now // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of ten characters (about 50 bits each), shown once as xxxxx-xxxxx."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def looks_like_recovery_code(code: str) -> bool:
    return len(code.replace("-", "").strip()) == 10

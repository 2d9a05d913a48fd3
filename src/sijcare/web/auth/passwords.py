"""Argon2id password hashing (argon2-cffi), shared by the sign-in page and the CLI, and the
rules a new password must meet (NIST SP 800-63B: length, not a common password, nothing from
the context such as the username)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from sijcare.store.plausible import control_characters

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a miss costs as long as a wrong password.
_DECOY = _hasher.hash("decoy password, never issued")

MIN_LENGTH = 12
# zxcvbn's score (0-4) from its offline lists of common passwords, words and names, and its
# patterns (repeats, sequences, keyboard rows, dates); 3 is "safely unguessable" (about 10^8
# guesses). It reads at most 72 characters, and a longer password is judged by those.
MIN_SCORE = 3
SCORED_LENGTH = 72
CONTEXT = ("sijcare", "clinic", "sacroiliac")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DECOY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, username: str) -> str | None:
    """Why `username`'s new password is refused, or None: too short, control characters,
    the username in it, or easy to guess (a common password, a repeat, a sequence)."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if control_characters(password):
        return "must not contain control characters (line breaks, tabs and the like)"
    name = username.strip().lower()
    if name and (password.lower() == name or (len(name) >= 4 and name in password.lower())):
        return "must not contain your username"
    judged = zxcvbn(password[:SCORED_LENGTH], user_inputs=[name, *CONTEXT])
    if judged["score"] < MIN_SCORE:
        warning = judged["feedback"]["warning"].rstrip(".")
        return ("too easy to guess" + (f" ({warning[0].lower()}{warning[1:]})" if warning
                                       else "") + ": add a few uncommon words")
    return None

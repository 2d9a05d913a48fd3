"""How a person is reached: one email address, one phone number, one postal address.

Shared by the public appointment form and the patient record, so both accept the same.
"""

from __future__ import annotations

import re

from sijcare.store.plausible import EMAIL

PHONE = re.compile(r"^\+?[0-9 ()./-]{6,40}$")
EMAIL_PROBLEM = "is not an email address (like name@example.org)"
PHONE_PROBLEM = "use digits, spaces and + ( ) - only, at least 6 digits"


def checked_email(value: str | None) -> str | None:
    if value is not None and not EMAIL.match(value):
        raise ValueError(EMAIL_PROBLEM)
    return value


def checked_phone(value: str | None) -> str | None:
    if value is not None and not PHONE.match(value):
        raise ValueError(PHONE_PROBLEM)
    return value

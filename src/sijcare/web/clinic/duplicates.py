"""Registration asks first whether the person is already a patient (`store.duplicates`): the
candidates are shown with the form kept as typed, and "Register anyway" confirms a new one."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from sijcare.store import Patient
from sijcare.store.duplicates import possible_duplicates

CONFIRM_NEW = "new_patient"  # the input sent by "Register anyway"


def unconfirmed_duplicates(db: Session, clinic_id: int, data: dict[str, Any],
                           form: FormData) -> list[Patient]:
    """The possible duplicates of the person in `data`, unless the user confirmed a new one."""
    if form.get(CONFIRM_NEW) == "confirmed":
        return []
    born = data.get("birth_date")
    return possible_duplicates(db, clinic_id, str(data.get("given_name", "")),
                               str(data.get("family_name", "")),
                               date.fromisoformat(born) if born else None,
                               data.get("external_id"))

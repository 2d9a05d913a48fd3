"""What every record-made resource shares: the subject, who recorded it, and its status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sijcare.interop.fhir.base import reference
from sijcare.store.episode_records import StoredRecord


@dataclass(frozen=True)
class Recorded:
    """One stored record as the mapping reads it: its form, the patient it is about and the
    username of whoever recorded it."""

    record: StoredRecord
    patient_id: str
    author: str | None

    @property
    def form(self) -> Any:
        return self.record.form

    @property
    def id(self) -> int:
        return self.record.row.id

    @property
    def recorded_on(self) -> dt.date:
        return self.record.row.recorded_on

    @property
    def voided(self) -> bool:
        """Marked entered in error: exported so a receiver can retract it, never dropped."""
        return self.record.row.voided_on is not None

    @property
    def subject(self) -> dict[str, str]:
        return reference("Patient", self.patient_id)

    def status(self, current: str) -> str:
        return "entered-in-error" if self.voided else current

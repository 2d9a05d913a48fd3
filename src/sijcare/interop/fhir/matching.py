"""Which sijcare patient a hospital's Patient is: by an identifier sijcare gave it (the
clinic's patient number under the clinic's identifier system, as the export writes it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from sijcare.interop.fhir.patient import identifier_system
from sijcare.store.models import Patient


def matching_patient(db: Session, identifiers: Iterable[dict[str, Any]]) -> Patient | None:
    """The one patient an identifier names, or None (none, or more than one: ambiguous)."""
    wanted = {(i.get("system"), i.get("value")) for i in identifiers
              if isinstance(i, dict) and isinstance(i.get("value"), str)}
    values = {value for _, value in wanted}
    if not values:
        return None
    numbered = [Patient.external_id.in_(values)]
    numbered += [Patient.id == int(v[8:]) for v in values
                 if v.startswith("patient-") and v[8:].isdigit() and len(v) < 18]
    rows = db.scalars(select(Patient).options(joinedload(Patient.clinic))
                      .where(or_(*numbered))).all()
    found = [r for r in rows if (identifier_system(r.clinic), r.external_id
                                 or f"patient-{r.id}") in wanted]
    return found[0] if len(found) == 1 else None

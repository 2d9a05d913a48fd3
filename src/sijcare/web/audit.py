"""Every read and write of patient data is audited by one dependency, never by the route.

Patient-scoped dependencies (`scope.py`) depend on `audit_note`, so any route that reaches
a patient writes an audit event: "read" or "write" by the HTTP method (or "export" for a
route that hands out a file, such as a report: `note.action`), the route's name in the
detail, and the object the note names.
A refused or failed request is audited too, after its partial work is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError

from sijcare.store import record_event
from sijcare.web.auth.csrf import SAFE_METHODS
from sijcare.web.deps import CurrentActor, DbSession


@dataclass
class AuditNote:
    """What this request touched; scope dependencies and routes fill it in."""

    object_type: str
    object_id: str | None = None
    clinic_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    action: str | None = None  # default: "read" or "write" by the method


def audit_note(request: Request, db: DbSession, actor: CurrentActor) -> Iterator[AuditNote]:
    note = AuditNote(object_type="patient", detail={"route": request.scope["route"].name})
    by_method = "read" if request.method in SAFE_METHODS else "write"
    try:
        yield note
    except Exception as error:
        db.rollback()
        status = (error.status_code if isinstance(error, HTTPException)
                  else 422 if isinstance(error, RequestValidationError) else 500)
        # an exception may name its own outcome (a replayed idempotent write: "replayed")
        outcome = getattr(error, "audit_outcome", "refused" if status < 500 else "failed")
        record_event(db, actor.id, note.action or by_method, note.object_type, note.object_id,
                     note.clinic_id, {**note.detail, "outcome": outcome, "status": status})
        db.commit()
        raise
    record_event(db, actor.id, note.action or by_method, note.object_type, note.object_id,
                 note.clinic_id, note.detail)


Audited = Annotated[AuditNote, Depends(audit_note, scope="function")]

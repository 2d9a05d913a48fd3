"""Documents on a patient: the list, the upload (PDF, PNG or JPEG, size and type checked by
the store from the file's content) and each file, served from the private data directory
through the patient's scope, audited like the patient's page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from sijcare.store import NotFound, Patient, RecordError
from sijcare.store.documents import (
    MAX_BYTES,
    add_document,
    documents_dir,
    documents_of,
    read_document,
)
from sijcare.store.models import PatientDocument
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Permission
from sijcare.web.auth.scope import RowId, patient_scope
from sijcare.web.clinic.banner import banner_page
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm

router = APIRouter(include_in_schema=False)
Reading = Annotated[Patient, Depends(patient_scope(Permission.clinical_read))]
Writing = Annotated[Patient, Depends(patient_scope(Permission.clinical_write))]


def _directory(request: Request) -> Path:
    """Beside the app's database (the URL's password plays no part in where)."""
    return documents_dir(str(request.app.state.engine.url))


def _page(request: Request, db: DbSession, patient: Patient, title: str = "",
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return banner_page(request, db, "clinic/patients/documents.html", {
        "patient": patient, "zone": patient.clinic.time_zone,
        "documents": documents_of(db, patient.id), "title": title,
        "errors": errors or {}, "max_mb": MAX_BYTES // 1048576}, status_code=status_code)


# a document upload takes the file limit (`store.documents.MAX_BYTES`) and the form around it
UPLOADS = re.compile(r"^/patients/[0-9]+/documents$")


@router.get("/patients/{patient_id}/documents", name="documents.list")
def documents(request: Request, db: DbSession, patient: Reading) -> Response:
    return _page(request, db, patient)


@router.post("/patients/{patient_id}/documents", name="documents.upload")
def upload(request: Request, db: DbSession, actor: CurrentActor, patient: Writing,
                 note: Audited, form: SubmittedForm) -> Response:
    """Keeps the file, or shows every problem at once and keeps nothing."""
    title = form.get("title")
    title = title if isinstance(title, str) else ""
    file = form.get("file")
    content, filename = (file.file.read(MAX_BYTES + 1), file.filename or "") \
        if isinstance(file, UploadFile) else (b"", "")
    try:
        document = add_document(db, _directory(request), patient.id, title, filename,
                                content, actor.id)
    except RecordError as error:
        db.rollback()
        note.detail["outcome"] = "invalid"
        errors: dict[str, str] = {}
        for field, message in error.problems:
            errors.setdefault(field, message)
        return _page(request, db, patient, title, errors, 422)
    note.detail.update(document_id=document.id)
    request.state.session.say("Document uploaded.")
    return RedirectResponse(f"/patients/{patient.id}/documents", status_code=303)


@router.get("/patients/{patient_id}/documents/{document_id}", name="documents.view")
def view(request: Request, db: DbSession, patient: Reading, note: Audited,
         document_id: RowId) -> Response:
    """The file as uploaded, in the browser's viewer; its type is the one read at upload."""
    document = db.get(PatientDocument, document_id)
    if document is None or document.patient_id != patient.id:
        raise HTTPException(404, "No such document on this patient.")
    note.detail["document_id"] = document.id
    try:
        content = read_document(_directory(request), document)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in document.filename)
    return Response(content, media_type=document.media_type, headers={
        "content-disposition": f'inline; filename="{safe_name}"'})

"""Importing a hospital's FHIR file from the clinic app: upload, the summary (counts, every
resource not imported and why, its CSV), and the confirmation of patients who match one of
the clinic's only by name and birth date, as `sijcare import fhir --same/--new` answer it.

The import itself is the command's (`interop.fhir.importing`), audited the same way.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from sijcare.interop.fhir.importing import ImportReport, import_received, record_import
from sijcare.interop.fhir.reading import BadFile, read_bytes
from sijcare.store import Patient, RecordError
from sijcare.web.audit import Audited, AuditNote
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import clinic_scope, registering_clinic
from sijcare.web.clinic.patients import clinic_choices
from sijcare.web.clinic.uploads import Upload, UploadGone, Uploads
from sijcare.web.deps import DbSession, SubmittedForm
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
UPLOAD_PATH = "/imports/fhir"
UPLOADS = re.compile(f"^{UPLOAD_PATH}$")  # takes the larger upload limit (SIJCARE_MAX_UPLOAD_KB)
VIA = "clinic upload page"
SUFFIXES = (".json", ".ndjson")
Importing = Annotated[Actor, Depends(clinic_scope(Permission.clinical_write))]


def uploads(request: Request) -> Uploads:
    return request.app.state.uploads


def _upload_page(request: Request, db: DbSession, actor: Actor, error: str | None = None,
                 status_code: int = 200) -> Response:
    return render(request, "clinic/imports/upload.html", {
        "clinics": clinic_choices(db, actor), "error": error,
        "limit_mb": request.app.state.settings.max_upload_bytes // (1024 * 1024)},
        status_code=status_code)


@router.get(UPLOAD_PATH, name="imports.upload_page")
def upload_page(request: Request, db: DbSession, actor: Importing, note: Audited) -> Response:
    note.object_type = "import"
    return _upload_page(request, db, actor)


def _sent_files(raw: FormData, limit: int) -> list[tuple[str, bytes]]:
    """The uploaded files, named, each checked before any is imported (BadFile)."""
    sent = [f for f in raw.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not sent:
        raise BadFile("files: choose a Bundle (.json) or NDJSON (.ndjson) file to import")
    found = []
    for upload in sent:
        name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:120]
        if not name.endswith(SUFFIXES):
            raise BadFile(f"{name}: not a .json Bundle or an .ndjson file")
        found.append((name, upload.file.read(limit + 1)))
    return found


@router.post(UPLOAD_PATH, name="imports.upload")
def upload(request: Request, db: DbSession, actor: Importing, note: Audited,
           raw: SubmittedForm) -> Response:
    """Reads every file first (a bad one refuses all, writing nothing), keeps them for the
    confirmation, imports each patient in their own transaction and shows the summary."""
    note.object_type = "import"
    clinic = raw.get("clinic_id")
    limit = request.app.state.settings.max_upload_bytes
    try:
        clinic_id = registering_clinic(
            actor, int(clinic) if isinstance(clinic, str) and clinic.isdigit() else None)
        files = _sent_files(raw, limit)
        report = import_received(db, [read_bytes(name, data, limit) for name, data in files],
                                 clinic_id, actor.id)
    except RecordError as error:
        return _upload_page(request, db, actor, error.problems[0][1], 422)
    except BadFile as error:  # raised before anything is written
        note.detail["outcome"] = "invalid"
        return _upload_page(request, db, actor, str(error), 422)
    token = uploads(request).keep(actor.id, clinic_id, files)
    note.clinic_id = clinic_id
    return _summary(request, db, actor, note, Upload(token, clinic_id, files), report)


def recorded(request: Request, db: DbSession, actor: Actor, note: AuditNote, upload: Upload,
             report: ImportReport, via: str = VIA) -> None:
    """The import's audit entry and its report kept with the upload (for the CSV)."""
    record_import(db, actor.id, upload.clinic_id, via, [n for n, _ in upload.files], report)
    uploads(request).keep_report(upload.token, report.csv())
    note.detail.update(upload=upload.token, patients=len(report.patients),
                       records=report.created)


def summary(request: Request, db: DbSession, upload: Upload, report: ImportReport) -> Response:
    """The summary page: counts, the patients to confirm, what was not imported and why."""
    wanted = {c for p in report.patients for c in p.candidates}
    candidates = {p.id: p for p in db.scalars(select(Patient).where(
        Patient.id.in_(wanted), Patient.clinic_id == upload.clinic_id))}
    return render(request, "clinic/imports/summary.html", {
        "report": report, "upload": upload, "candidates": candidates,
        "to_confirm": [p for p in report.patients if p.status == "needs_confirmation"]})


def _summary(request: Request, db: DbSession, actor: Actor, note: AuditNote, upload: Upload,
             report: ImportReport) -> Response:
    recorded(request, db, actor, note, upload, report)
    return summary(request, db, upload, report)


def _answers(raw: FormData) -> tuple[dict[str, int], set[str]]:
    """The clinician's answer for each patient to confirm: `same` as a patient, or `new`."""
    same_as, as_new = {}, set()
    for name, value in raw.multi_items():
        if not name.startswith("source-") or not isinstance(value, str):
            continue
        choice = raw.get(f"choice-{name.removeprefix('source-')}")
        if choice == "new":
            as_new.add(value)
        elif isinstance(choice, str) and choice.isdigit():
            same_as[value] = int(choice)
    return same_as, as_new


@router.post(f"{UPLOAD_PATH}/confirm", name="imports.confirm")
def confirm(request: Request, db: DbSession, actor: Importing, note: Audited,
            raw: SubmittedForm) -> Response:
    """Imports the kept files again with the answers: what was imported stays unchanged,
    the confirmed patients join (same person) or are registered (new)."""
    note.object_type = "import"
    token = raw.get("upload")
    if not isinstance(token, str) or not token:
        raise HTTPException(422, "upload: name the upload to confirm")
    try:
        upload = uploads(request).open(token, actor.id)
    except UploadGone:
        raise HTTPException(404, "No such upload of yours (uploads are kept for an hour): "
                                 "upload the file again.") from None
    if not actor.sees_clinic(upload.clinic_id):
        raise HTTPException(404, "No such upload of yours.")
    note.clinic_id = upload.clinic_id
    same_as, as_new = _answers(raw)
    known = set(db.scalars(select(Patient.id).where(Patient.id.in_(same_as.values()),
                                                    Patient.clinic_id == upload.clinic_id)))
    if set(same_as.values()) - known:
        raise HTTPException(404, "No such patient in this clinic.")
    received = [read_bytes(name, data) for name, data in upload.files]
    report = import_received(db, received, upload.clinic_id, actor.id, same_as=same_as,
                             as_new=as_new)
    return _summary(request, db, actor, note, upload, report)


@router.get(f"{UPLOAD_PATH}/report.csv", name="imports.report")
def report_csv(request: Request, actor: Importing, note: Audited, upload: str = "") -> Response:
    """Every resource of the upload not imported, with why (the command's `--report`); without
    an upload named, the same plain 404 as for one that is gone."""
    note.object_type, note.action = "import", "export"
    try:
        text = uploads(request).report(upload, actor.id)
    except UploadGone:
        raise HTTPException(404, "No such upload of yours (uploads are kept for an hour).") \
            from None
    return Response(text, media_type="text/csv", headers={
        "content-disposition": 'attachment; filename="fhir-import-report.csv"'})

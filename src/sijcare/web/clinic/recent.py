"""The patients a user opened last (the header's "recent patients"), and the patient's
medication list and allergies in words, edited beside the banner that shows them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from sijcare.store import Patient, RecordError
from sijcare.store.recent import recent_patients, set_medication_list
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import clinic_scope, patient_scope
from sijcare.web.clinic.banner import banner_page
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm
from sijcare.web.forms import FormField
from sijcare.web.submissions import attach, read_fields
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Listing = Annotated[Actor, Depends(clinic_scope(Permission.demographics_read))]
Writing = Annotated[Patient, Depends(patient_scope(Permission.clinical_write))]
FIELDS = [
    FormField("medication_list", "Current medications", "text",
              hint="In your words, e.g. apixaban 5 mg twice daily; paracetamol as needed. "
                   "The coded anticoagulant stays in the medications record, which the "
                   "decision support reads."),
    FormField("allergy_notes", "Allergies in words",
              "text", hint="What the coded allergies cannot say, e.g. penicillin: rash. "
                           "Contrast, local anaesthetic, steroid and latex are coded in the "
                           "medications record."),
]


@router.get("/recent", name="patients.recent")
def recent(request: Request, db: DbSession, actor: Listing, note: Audited) -> Response:
    patients = recent_patients(db, actor.id, sorted(actor.clinic_ids))
    note.object_type = "patient_list"
    note.detail.update(recent=[p.id for p in patients])
    return render(request, "clinic/recent.html", {"patients": patients})


def _form(request: Request, db: DbSession, patient: Patient, values: dict, errors: dict,
          status_code: int = 200) -> Response:
    return banner_page(request, db, "clinic/patients/medication_list.html", {
        "patient": patient, "fields": FIELDS, "fields_by_name": {f.name: f for f in FIELDS},
        "values": values, "errors": errors}, status_code=status_code)


@router.get("/patients/{patient_id}/medication-list", name="patients.medication_list")
def medication_list(request: Request, db: DbSession, patient: Writing) -> Response:
    words = patient.medication_words
    return _form(request, db, patient, {name: (getattr(words, name) if words else None) or ""
                                    for name in ("medication_list", "allergy_notes")}, {})


@router.post("/patients/{patient_id}/medication-list", name="patients.save_medication_list")
def save_medication_list(request: Request, db: DbSession, actor: CurrentActor,
                         patient: Writing, note: Audited, form: SubmittedForm) -> Response:
    values, errors, data = read_fields(FIELDS, form)
    if not errors:
        try:
            set_medication_list(db, patient.id, data.get("medication_list", ""),
                                data.get("allergy_notes", ""), actor.id)
        except RecordError as error:
            db.rollback()
            attach(error.problems, errors, values)
    if errors:
        note.detail["outcome"] = "invalid"
        return _form(request, db, patient, values, errors, 422)
    request.state.session.say("Medications and allergies saved.")
    return RedirectResponse(f"/patients/{patient.id}", status_code=303)

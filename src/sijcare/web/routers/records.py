"""Record forms: one page per kind, saved whole or not at all."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from sijcare.store import RECORD_KINDS, Episode, RecordError, add_record
from sijcare.web.access import Permission
from sijcare.web.audit import Audited
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm
from sijcare.web.forms import RecordForm, record_forms
from sijcare.web.scope import episode_scope
from sijcare.web.submissions import Draft, Submission, attach, read_form
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Writing = Annotated[Episode, Depends(episode_scope(Permission.clinical_write))]


def form_of(kind: str) -> RecordForm:
    if kind not in RECORD_KINDS:
        raise HTTPException(404, f"No record kind '{kind}'.")
    return record_forms()[kind]


def _form_page(request: Request, episode: Episode, form: RecordForm, submission: Submission,
               status_code: int = 200) -> Response:
    return render(request, "records/form.html", {
        "episode": episode, "patient": episode.patient, "form": form,
        "fields_by_name": {f.name: f for f in form.fields()}, "values": submission.values,
        "errors": submission.errors}, status_code=status_code)


@router.get("/episodes/{episode_id}/records/{kind}", name="records.form")
def record_form(request: Request, episode: Writing, kind: str) -> Response:
    blank = Submission({"recorded_on": date.today().isoformat()}, {}, [], None)
    return _form_page(request, episode, form_of(kind), blank)


@router.post("/episodes/{episode_id}/records/{kind}", name="records.add")
def add(request: Request, db: DbSession, actor: CurrentActor, episode: Writing, note: Audited,
        kind: str, raw: SubmittedForm) -> Response:
    form = form_of(kind)
    if raw.get("none") == "confirmed":  # "no imaging", "no blocks": a fact, not a gap
        submission = Submission({}, {}, [Draft({"none": True})], date.today())
    else:
        submission = read_form(form, raw)
    for draft in submission.drafts:
        try:
            add_record(db, episode.id, kind, draft.data, actor.id,
                       submission.recorded_on or date.today())
        except RecordError as error:
            attach(error.problems, submission.errors, submission.values, draft.inputs)
    note.detail.update(kind=kind)
    if submission.errors:
        db.rollback()  # a half-valid form saves nothing, not even its valid parts
        note.detail["outcome"] = "invalid"
        return _form_page(request, episode, form, submission, 422)
    request.state.session.say(f"{form.title} saved.")
    return RedirectResponse(f"/episodes/{episode.id}#timeline", status_code=303)

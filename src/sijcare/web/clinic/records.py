"""Record forms: one page per kind and the first visit's single form, saved whole or not at all;
and free-text notes on the timeline."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from sijcare.labels import inline, label
from sijcare.store import (
    RECORD_KINDS,
    Episode,
    ProcedureRecord,
    RecordError,
    add_note,
    add_record,
    load_episode_records,
)
from sijcare.store.episode_records import EpisodeRecords
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Permission
from sijcare.web.auth.scope import episode_scope
from sijcare.web.clinic.banner import banner_page
from sijcare.web.clinic.forms import (
    CARRIED_FORWARD,
    FIRST_VISIT,
    FIRST_VISIT_PARTS,
    asked_of,
    first_visit_form,
    record_forms,
)
from sijcare.web.clinic.submissions import Draft, Submission, fill, read_form, values_from
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm
from sijcare.web.forms import Choices, RecordForm
from sijcare.web.submissions import attach, in_form_order

router = APIRouter(include_in_schema=False)
Writing = Annotated[Episode, Depends(episode_scope(Permission.clinical_write))]
FILL = "fill"  # the name of the "all negative / all not performed" buttons


def form_of(db: DbSession, kind: str, episode: Episode) -> RecordForm:
    """The kind's form as asked of this episode's patient; an outcome names its procedure
    among the episode's own, by kind, side and date."""
    if kind == FIRST_VISIT:
        form = first_visit_form()
    elif kind == "procedure_outcome":
        choices = procedure_choices(db, episode.id)
        form = record_forms()[kind].choosing("procedure_id", choices, None if choices else (
            "No procedure is recorded in this episode yet: record the procedure first."))
    elif kind in RECORD_KINDS:
        form = record_forms()[kind]
    else:
        raise HTTPException(404, f"No record kind '{kind}'.")
    return asked_of(form, episode.patient.sex)


def procedure_choices(db: DbSession, episode_id: int) -> Choices:
    """The episode's live procedures, latest first, each as the timeline names it."""
    procedures = db.scalars(select(ProcedureRecord).where(
        ProcedureRecord.episode_id == episode_id, ProcedureRecord.voided_on.is_(None))
        .order_by(ProcedureRecord.date.desc(), ProcedureRecord.id.desc()))
    return tuple((str(p.id), ", ".join(filter(None, (
        label(p.kind), inline(p.side) if p.side else None, p.date.isoformat()))))
        for p in procedures)


def carried_forward(form: RecordForm, records: EpisodeRecords) -> dict[str, str | list[str]]:
    """Today's form pre-filled with what stays true from the last visit (`CARRIED_FORWARD`)."""
    parts = ([(kind, kind + ".") for kind, _ in FIRST_VISIT_PARTS] if form.kind == FIRST_VISIT
             else [(form.kind, "")])
    values: dict[str, str | list[str]] = {}
    for kind, prefix in parts:
        if kind in CARRIED_FORWARD and (last := records.latest(kind, date.today())):
            values |= values_from(form.fields(), last.model_dump(mode="json"),
                                  CARRIED_FORWARD[kind], prefix)
    return values


def _form_page(request: Request, db: DbSession, episode: Episode, form: RecordForm,
               submission: Submission, status_code: int = 200, carried: bool = False
               ) -> Response:
    return banner_page(request, db, "clinic/records/form.html", {
        "episode": episode, "patient": episode.patient, "form": form,
        "fields_by_name": {f.name: f for f in form.fields()}, "values": submission.values,
        "errors": submission.errors, "carried": carried}, status_code=status_code)


@router.get("/episodes/{episode_id}/records/{kind}", name="records.form")
def record_form(request: Request, db: DbSession, episode: Writing, kind: str) -> Response:
    form = form_of(db, kind, episode)
    carried = carried_forward(form, load_episode_records(db, episode.id))
    blank = Submission({**carried, "recorded_on": date.today().isoformat()}, {}, [], None)
    return _form_page(request, db, episode, form, blank, carried=bool(carried))


def _save(db: DbSession, actor_id: int, episode: Episode, form: RecordForm,
          submission: Submission) -> None:
    """Every draft is validated and added even after one fails, so that all errors show."""
    for draft in submission.drafts:
        try:
            add_record(db, episode.id, draft.kind or form.kind, draft.data, actor_id,
                       submission.recorded_on or date.today())
        except RecordError as error:
            attach(error.problems, submission.errors, submission.values, draft.inputs,
                   draft.prefix)


def _filled(form: RecordForm, raw: FormData) -> Submission:
    submission = read_form(form, raw)
    return Submission(fill(form, submission.values, str(raw.get(FILL))), {}, [], None)


@router.post("/episodes/{episode_id}/records/{kind}", name="records.add")
def add(request: Request, db: DbSession, actor: CurrentActor, episode: Writing, note: Audited,
        kind: str, raw: SubmittedForm) -> Response:
    form = form_of(db, kind, episode)
    note.detail.update(kind=kind)
    if raw.get(FILL):  # a helper button: the same form back, filled in, nothing saved
        note.detail["outcome"] = "filled"
        return _form_page(request, db, episode, form, _filled(form, raw))
    if raw.get("none") == "confirmed":  # "no imaging", "no blocks": a fact, not a gap
        submission = Submission({}, {}, [Draft({"none": True})], date.today())
    else:
        submission = read_form(form, raw)
    _save(db, actor.id, episode, form, submission)
    submission.errors = in_form_order(submission.errors, (f.name for f in form.fields()))
    if submission.errors:
        db.rollback()  # a half-valid form saves nothing, not even its valid parts
        note.detail["outcome"] = "invalid"
        return _form_page(request, db, episode, form, submission, 422)
    request.state.session.say(f"Recorded: no {form.title.lower()}." if raw.get("none") ==
                              "confirmed" else f"{form.title} saved.")
    return RedirectResponse(f"/episodes/{episode.id}#timeline", status_code=303)


@router.post("/episodes/{episode_id}/notes", name="notes.add")
def add_clinical_note(request: Request, db: DbSession, actor: CurrentActor, episode: Writing,
                      note: Audited, raw: SubmittedForm) -> Response:
    """A free-text note on the timeline, dated today; shown escaped, audited."""
    text = raw.get("text")
    try:
        added = add_note(db, episode.id, text if isinstance(text, str) else "", actor.id,
                         date.today())
    except RecordError as error:
        db.rollback()
        note.detail["outcome"] = "invalid"
        message = "; ".join(message for _, message in error.problems)
        return banner_page(request, db, "clinic/records/note.html", {
            "episode": episode, "patient": episode.patient, "text": text or "",
            "errors": {"text": message}}, status_code=422)
    note.detail.update(note_id=added.id)
    request.state.session.say("Note added.")
    return RedirectResponse(f"/episodes/{episode.id}#timeline", status_code=303)


@router.get("/episodes/{episode_id}/notes/new", name="notes.form")
def note_form(request: Request, db: DbSession, episode: Writing) -> Response:
    return banner_page(request, db, "clinic/records/note.html", {
        "episode": episode, "patient": episode.patient, "text": "", "errors": {}})

"""Reviewing imported records: the clinic's episodes holding facts no clinician has reviewed,
and one episode's, each accepted (it then counts in full) or rejected (entered in error).

Until then a record gives the case only what can stop an option (`store/unreviewed.py`); the
screen says which of its facts count already.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from sijcare.store import Episode, NotFound, RecordError, load_episode_records
from sijcare.store.models import ImportedRecord
from sijcare.store.review import awaiting_review, episodes_awaiting_review, review_import
from sijcare.store.unreviewed import stopping_facts
from sijcare.web.audit import Audited
from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.scope import clinic_scope, episode_scope
from sijcare.web.clinic.banner import banner_page
from sijcare.web.deps import CurrentActor, DbSession, SubmittedForm, end_reads
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)
Listing = Annotated[Actor, Depends(clinic_scope(Permission.clinical_write))]
Reviewing = Annotated[Episode, Depends(episode_scope(Permission.clinical_write))]
DECISIONS = {"accept": True, "reject": False}


@router.get("/imports/review", name="imports.review_list")
def review_list(request: Request, db: DbSession, actor: Listing, note: Audited) -> Response:
    note.object_type = "import"
    waiting = episodes_awaiting_review(db, sorted(actor.clinic_ids))
    end_reads(db)
    return render(request, "clinic/imports/review_list.html", {"waiting": waiting})


@router.get("/episodes/{episode_id}/review", name="imports.review")
def review_page(request: Request, db: DbSession, episode: Reviewing,
                note: Audited) -> Response:
    pending = awaiting_review(db, episode.id)
    records = load_episode_records(db, episode.id)
    # a confirmed none is reviewed as kind "none" (its timeline entry names the list kind)
    entries = {("none" if e.data == {"none": True} else e.kind, e.id): e
               for e in records.timeline()}
    forms = {(r.spec.name, r.row.id): r.form for kind in records.by_kind.values() for r in kind}
    items = [(row, entries.get((row.kind, row.record_id)),
              stopping_facts(row.kind, forms[(row.kind, row.record_id)])
              if (row.kind, row.record_id) in forms else [])
             for row in pending]
    return banner_page(request, db, "clinic/imports/review.html", {
        "episode": episode, "patient": episode.patient, "items": items})


@router.post("/episodes/{episode_id}/review", name="imports.decide")
def decide(request: Request, db: DbSession, actor: CurrentActor, episode: Reviewing,
           note: Audited, raw: SubmittedForm) -> Response:
    """Accept or reject one imported record of the episode; audited by `review_import`."""
    imported, decision = raw.get("imported_id"), raw.get("decision")
    if not isinstance(imported, str) or not imported.isdigit() or decision not in DECISIONS:
        raise HTTPException(422, "imported_id: name an imported record; decision: accept or "
                                 "reject")
    row = db.get(ImportedRecord, int(imported))
    if row is None or row.episode_id != episode.id:
        raise HTTPException(404, "No such imported record in this episode.")
    note.detail.update(imported_id=row.id, decision=decision)
    try:
        review_import(db, row.id, DECISIONS[decision], actor.id, date.today())
    except NotFound:
        raise HTTPException(404, "No such imported record in this episode.") from None
    except RecordError as error:
        request.state.session.say(f"Nothing was changed: {error.problems[0][1]}.")
        return RedirectResponse(f"/episodes/{episode.id}/review", status_code=303)
    request.state.session.say("Imported record accepted: it now counts in full."
                              if DECISIONS[decision] else
                              "Imported record rejected: marked entered in error.")
    return RedirectResponse(f"/episodes/{episode.id}/review", status_code=303)

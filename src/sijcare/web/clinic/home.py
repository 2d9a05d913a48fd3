"""The start page: straight to the patient list for those who may see it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sijcare.web.auth.access import Permission
from sijcare.web.deps import CurrentActor
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", name="home")
def home(request: Request, actor: CurrentActor) -> Response:
    if actor.may(Permission.demographics_read):
        return RedirectResponse("/patients", status_code=303)
    return render(request, "clinic/home.html")

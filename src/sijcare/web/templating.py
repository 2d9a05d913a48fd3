"""Jinja2 set-up and the one `render` every page goes through (actor, CSRF token, notice).

Globals every room uses are set here; a room adds its own (the clinic's presenters) when it is
imported, so this module never reaches up into a room."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from sijcare.knowledge import load_knowledge
from sijcare.store.users import signer_name
from sijcare.web.auth.csrf import csrf_token
from sijcare.web.forms import NONE_OF_THESE
from sijcare.web.timezones import local_time

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.trim_blocks = templates.env.lstrip_blocks = True
templates.env.globals.update(none_of_these=NONE_OF_THESE)
templates.env.globals.update(local_time=local_time, today_date=date.today,
                             signer_name=signer_name)  # signatures and the users' list


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    common = {"actor": getattr(request.state, "actor", None), "csrf_token": csrf_token(request),
              "flash": request.state.session.take_flash(),
              "disclaimer": load_knowledge().disclaimer}
    return templates.TemplateResponse(request, name, {**common, **(context or {})},
                                      status_code=status_code)

"""Rendering for the patient site: the clinic's name and phone on every page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse

from sijcare.web.templating import render


@dataclass(frozen=True)
class ClinicContact:
    name: str
    phone: str


def clinic_contact(request: Request) -> ClinicContact:
    settings = request.app.state.settings
    return ClinicContact(settings.clinic_name, settings.clinic_phone)


def render_public(request: Request, name: str, context: dict[str, Any] | None = None,
                  status_code: int = 200) -> HTMLResponse:
    return render(request, name, {"clinic": clinic_contact(request), **(context or {})},
                  status_code=status_code)

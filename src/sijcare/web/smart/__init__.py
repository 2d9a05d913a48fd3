"""SMART App Launch 2.x (`/smart`): sijcare opened from inside the EHR, in the patient's
context, signed in as the launching clinician's mapped account."""

from fastapi import FastAPI

from sijcare.web.smart.issuers import load_smart_issuers
from sijcare.web.smart.routes import router

__all__ = ["install", "router"]


def install(app: FastAPI) -> None:
    app.state.smart_issuers = load_smart_issuers(app.state.settings.smart_issuers)

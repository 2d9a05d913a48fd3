"""SMART App Launch 2.x (`/smart`): sijcare opened from inside the EHR, in the patient's
context, signed in as the launching clinician's mapped account."""

import tempfile
from pathlib import Path

from fastapi import FastAPI

from sijcare.web.ehr.grants import Grants
from sijcare.web.smart.issuers import load_smart_issuers
from sijcare.web.smart.routes import router

__all__ = ["install", "router"]


def install(app: FastAPI) -> None:
    """The allowed EHRs, and where a launch's tokens wait for the import it offers."""
    settings = app.state.settings
    app.state.smart_issuers = load_smart_issuers(settings.smart_issuers)
    app.state.ehr_grants = Grants(settings.grant_dir or Path(tempfile.mkdtemp(
        prefix="sijcare-ehr-grants-")), settings.secret_key, settings.clock)

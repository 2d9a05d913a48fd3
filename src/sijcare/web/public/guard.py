"""What every public form shares against abuse: a per-address rate limit kept in the
database, a honeypot field, and a minimum time between showing the form and sending it.

The form's start time travels in a signed field with a nonce, so it cannot be forged to look
older, and it is good once: sent again (a replay, or a second click), it is answered like a
robot's, as if it worked, and nothing is stored. The address is stored only as a keyed hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from sijcare.store.models import utcnow
from sijcare.store.public_forms import admit_attempt, spend_token
from sijcare.tokens import LinkError, check_link, sign_link
from sijcare.web.auth.signin import client_address

HONEYPOT = "website"  # people never see it; form-filling robots fill it in
STARTED = "started"
MIN_FILL_SECONDS = 3
MAX_FORM_AGE = dt.timedelta(hours=12)
ALLOWED_PER_HOUR = 5


@dataclass(frozen=True)
class Verdict:
    """`robot`: answer as if it worked, store nothing. `too_fast`, `limited`: say so."""

    robot: bool = False
    too_fast: bool = False
    limited: bool = False

    @property
    def ok(self) -> bool:
        return not (self.robot or self.too_fast or self.limited)


def _now(request: Request) -> float:
    return request.app.state.settings.clock()


def start_token(request: Request, form: str) -> str:
    """The signed time the form was shown and a nonce, for its hidden `started` field."""
    return sign_link(request.app.state.settings.secret_key, f"form-start:{form}",
                     f"{int(_now(request))}.{secrets.token_urlsafe(12)}")


def address_key(request: Request) -> str:
    return hmac.new(request.app.state.settings.secret_key,
                    f"public-form\n{client_address(request)}".encode(),
                    hashlib.sha256).hexdigest()


def check_submission(request: Request, db: Session, form_name: str, form: FormData) -> Verdict:
    """Judge one submission; an admitted (or refused-as-fast) one counts toward the limit."""
    if form.get(HONEYPOT):
        return Verdict(robot=True)
    token = str(form.get(STARTED, ""))
    try:
        shown = int(check_link(request.app.state.settings.accepted_keys(),
                               f"form-start:{form_name}", token).split(".")[0])
    except (LinkError, ValueError):
        return Verdict(robot=True)  # no genuine form was shown
    age = _now(request) - shown
    if age > MAX_FORM_AGE.total_seconds() or age < 0:
        return Verdict(too_fast=True)  # stale: show a fresh form
    if not spend_token(db, token, utcnow(), MAX_FORM_AGE):
        return Verdict(robot=True)  # this form was sent before
    if not admit_attempt(db, form_name, address_key(request), utcnow(), ALLOWED_PER_HOUR,
                         dt.timedelta(hours=1)):
        return Verdict(limited=True)
    return Verdict(too_fast=age < MIN_FILL_SECONDS)

"""One's own second factor: enrolling an authenticator app (QR code, first code, recovery
codes shown once), and how many recovery codes are left. Admins must enrol; clinicians must
when their clinic requires it (`deps.current_actor_checked` sends them here first)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import Response

from sijcare.store import Clinic, record_event
from sijcare.store.models import SecondFactor
from sijcare.store.second_factors import (
    factor_of,
    recovery_codes_left,
    secret_of,
    start_enrolment,
)
from sijcare.store.totp_secrets import SecretUnreadable
from sijcare.web.auth.second_factor import finish_enrolment
from sijcare.web.auth.totp import new_secret, provisioning_uri, qr_svg
from sijcare.web.deps import ENROLMENT_PATH, CurrentActor, DbSession
from sijcare.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, db: DbSession, actor: CurrentActor, problem: str | None = None,
          recovery_codes: list[str] | None = None, status_code: int = 200) -> Response:
    factor = factor_of(db, actor.id)
    context: dict = {"enrolled": factor is not None and factor.enrolled_at is not None,
                     "required": actor.must_enrol_second_factor, "problem": problem,
                     "recovery_codes": recovery_codes}
    if context["enrolled"]:
        context["codes_left"] = recovery_codes_left(db, actor.id)
    else:
        secret = _kept_secret(factor)
        if secret is None:  # the secret is made once and kept until enrolled
            secret = new_secret()
            start_enrolment(db, actor.id, secret)
        clinic = (db.scalar(select(Clinic.name).where(Clinic.id.in_(actor.clinic_ids))
                            .order_by(Clinic.name).limit(1))
                  or request.app.state.settings.clinic_name)
        uri = provisioning_uri(secret, actor.username, clinic)
        context.update(qr=qr_svg(uri), secret=secret)
    return render(request, "admin/two_factor.html", context, status_code=status_code)


def _kept_secret(factor: SecondFactor | None) -> str | None:
    """The secret waiting for its first code; None if there is none, or if it was encrypted
    under a TOTP key no longer held (a new one is made: nothing was enrolled with it)."""
    try:
        return None if factor is None else secret_of(factor)
    except SecretUnreadable:
        return None


@router.get(ENROLMENT_PATH, name="account.two_factor")
def two_factor(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _page(request, db, actor)


@router.post(ENROLMENT_PATH, name="account.enrol_two_factor")
def enrol(request: Request, db: DbSession, actor: CurrentActor,
          code: Annotated[str, Form(max_length=40)] = "") -> Response:
    codes = finish_enrolment(db, actor.id, code.strip(), request.app.state.settings.clock())
    if codes is None:
        return _page(request, db, actor, "That code does not match: type the 6 digits the app "
                                         "shows now (check the phone's clock).", status_code=422)
    record_event(db, actor.id, "enrol_second_factor", "user", actor.id)
    request.app.state.actors.forget(actor.id)
    return _page(request, db, actor, recovery_codes=codes)

"""Who may open what, with the audit entry each patient route writes, for every role from both
clinics. Every route of the app is declared in `access_rules.py` and run for every role by
the generated matrix (`test_access_matrix.py`); the lists here are the routes whose audit
entries these tests also check.
"""

from __future__ import annotations

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import func, select

from sijcare.store import AuditEvent
from sijcare.web import create_app
from sijcare.web.audit import audit_note
from sijcare.web.auth.access import ROLE_PERMISSIONS, Permission, Role
from sijcare.web.settings import Settings
from tests.web.conftest import World

P = Permission
# (method, path) -> the permission it needs; all of these take a patient or an episode.
PATIENT_ROUTES: dict[tuple[str, str], Permission] = {
    ("GET", "/patients/{patient_id}"): P.demographics_read,
    ("POST", "/patients/{patient_id}/episodes"): P.patient_register,
    ("GET", "/episodes/{episode_id}"): P.clinical_read,
    ("GET", "/episodes/{episode_id}/note"): P.clinical_read,
    ("GET", "/episodes/{episode_id}/course-chart.svg"): P.clinical_read,
    ("POST", "/episodes/{episode_id}/sign"): P.assessment_sign,
    ("GET", "/episodes/{episode_id}/records/{kind}"): P.clinical_write,
    ("POST", "/episodes/{episode_id}/records/{kind}"): P.clinical_write,
    ("POST", "/episodes/{episode_id}/records/{kind}/{record_id}/void"): P.clinical_write,
    ("GET", "/api/v1/patients/{patient_id}"): P.demographics_read,
    ("GET", "/api/v1/patients/{patient_id}/episodes"): P.demographics_read,
    ("POST", "/api/v1/patients/{patient_id}/episodes"): P.patient_register,
    ("GET", "/api/v1/episodes/{episode_id}"): P.clinical_read,
    ("GET", "/api/v1/episodes/{episode_id}/assessment"): P.clinical_read,
    ("POST", "/api/v1/episodes/{episode_id}/signatures"): P.assessment_sign,
    ("GET", "/api/v1/episodes/{episode_id}/records"): P.clinical_read,
    ("POST", "/api/v1/episodes/{episode_id}/records/{kind}"): P.clinical_write,
    ("POST", "/api/v1/episodes/{episode_id}/records/{kind}/{record_id}/void"): P.clinical_write,
    ("GET", "/patients/{patient_id}/edit"): P.patient_register,
    ("POST", "/patients/{patient_id}/edit"): P.patient_register,
    ("POST", "/episodes/{episode_id}/close"): P.patient_register,
    ("POST", "/episodes/{episode_id}/reopen"): P.patient_register,
    ("GET", "/episodes/{episode_id}/notes/new"): P.clinical_write,
    ("POST", "/episodes/{episode_id}/notes"): P.clinical_write,
    ("GET", "/episodes/{episode_id}/signed/{signed_id}"): P.clinical_read,
    ("GET", "/episodes/{episode_id}/report.pdf"): P.clinical_read,
    ("GET", "/episodes/{episode_id}/prior-auth.pdf"): P.clinical_read,
    # reviewing imported records (issue 23): clinicians of the patient's clinic only
    ("GET", "/episodes/{episode_id}/review"): P.clinical_write,
    ("POST", "/episodes/{episode_id}/review"): P.clinical_write,
}
# Routes that show or change no particular patient, and what they need (None: anyone).
OTHER_ROUTES: dict[tuple[str, str], Permission | None] = {
    ("GET", "/"): None,
    ("GET", "/patients"): P.demographics_read,
    ("GET", "/patients/new"): P.patient_register,
    ("POST", "/patients"): P.patient_register,
    ("GET", "/admin/users"): P.users_manage,
    ("POST", "/admin/users"): P.users_manage,
    ("GET", "/api/v1/patients"): P.demographics_read,
    ("POST", "/api/v1/patients"): P.patient_register,
    ("POST", "/api/v1/assess"): P.case_assess,
    ("POST", "/admin/users/{user_id}/deactivate"): P.users_manage,
    ("POST", "/admin/users/{user_id}/reactivate"): P.users_manage,
    ("POST", "/admin/users/{user_id}/password"): P.users_manage,
    ("POST", "/admin/clinics/{clinic_id}/time-zone"): P.users_manage,
    ("GET", "/account/password"): None,
    ("POST", "/account/password"): None,
    ("GET", "/inbox"): P.demographics_read,
    # the registry: clinicians and researchers, the two roles holding case_assess
    ("GET", "/registry"): P.case_assess,
    ("GET", "/registry/report.pdf"): P.case_assess,
    # importing FHIR files (issue 23): clinicians, into their own clinics
    ("GET", "/imports/fhir"): P.clinical_write,
    ("POST", "/imports/fhir"): P.clinical_write,
    ("POST", "/imports/fhir/confirm"): P.clinical_write,
    ("GET", "/imports/review"): P.clinical_write,
}
USERS = ("clinician", "staff", "researcher", "admin", "south_clinician", "south_staff")


def app_routes() -> list[tuple[str, str, APIRoute | None]]:
    app = create_app(Settings(database_url="sqlite://", secret_key=b"x"))
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        for method in sorted(getattr(context, "methods", None) or ()):
            found.append((method, context.path, route if isinstance(route, APIRoute) else None))
    return found


def depends_on(dependant: Dependant, call: object) -> bool:
    return dependant.call is call or any(depends_on(d, call) for d in dependant.dependencies)


def test_every_patient_route_is_audited_by_its_dependencies() -> None:
    for method, path, route in app_routes():
        if "{patient_id}" in path or "{episode_id}" in path or "{request_id}" in path:
            assert depends_on(route.dependant, audit_note), (method, path)


def url(world: World, path: str) -> str:
    """Void routes name the world's intake; with no reason sent, nothing is voided (422)."""
    void = "{record_id}" in path
    return path.format(patient_id=world.ids["patient"], episode_id=world.ids["episode"],
                       kind="intake" if void else "exam", record_id=world.ids["intake"],
                       signed_id=world.ids["signed"], user_id=world.ids["staff"],
                       clinic_id=world.ids["north"])


def expected(user: str, permission: Permission | None, patient_scoped: bool) -> str:
    role = Role(user.removeprefix("south_"))
    if permission is not None and permission not in ROLE_PERMISSIONS[role]:
        return "forbidden"
    if patient_scoped and user.startswith("south_"):
        return "not found"
    return "allowed"


def outcome(status: int) -> str:
    return {403: "forbidden", 404: "not found"}.get(status, "allowed")


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize(("method", "path"), sorted(PATIENT_ROUTES))
def test_patient_routes(world: World, clients: dict, user: str, method: str, path: str) -> None:
    with world.sessions() as db:
        before = db.scalar(select(func.count(AuditEvent.id)))
    answer = clients[user].request(method, url(world, path), follow_redirects=False,
                                   **({"json": {}} if path.startswith("/api") else {}))
    assert outcome(answer.status_code) == expected(user, PATIENT_ROUTES[method, path], True), (
        answer.status_code, answer.text[:300])
    assert answer.status_code < 500
    with world.sessions() as db:
        last = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert db.scalar(select(func.count(AuditEvent.id))) > before  # audited, even refused
    assert last.actor_id == world.ids[user]
    assert last.object_type in ("patient", "episode")
    if answer.status_code in (403, 404):
        assert last.detail["outcome"] == "refused"


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize(("method", "path"), sorted(OTHER_ROUTES))
def test_other_routes(world: World, clients: dict, user: str, method: str, path: str) -> None:
    answer = clients[user].request(method, path, follow_redirects=False,
                                   **({"json": {}} if path.startswith("/api") else {}))
    assert outcome(answer.status_code) == expected(user, OTHER_ROUTES[method, path], False), (
        answer.status_code, answer.text[:300])
    assert answer.status_code < 500


@pytest.mark.parametrize(("method", "path"), sorted(PATIENT_ROUTES | OTHER_ROUTES))
def test_nobody_signed_in_gets_nothing(world: World, method: str, path: str) -> None:
    client = world.client()
    token = client.get("/api/v1/session").json()["csrf_token"]
    answer = client.request(method, url(world, path), follow_redirects=False,
                            headers={"x-csrf-token": token})
    if path.startswith("/api"):
        assert answer.status_code == 401
    else:
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")


def test_researchers_see_no_identifiable_page(world: World, clients: dict) -> None:
    researcher = clients["researcher"]
    for path in ("/patients", "/patients/{patient_id}", "/episodes/{episode_id}",
                 "/api/v1/patients", "/api/v1/patients/{patient_id}"):
        answer = researcher.get(url(world, path), follow_redirects=False)
        assert answer.status_code == 403
        assert "North" not in answer.text  # not even the family name in an error page


def test_other_clinics_cannot_tell_a_patient_exists(world: World, clients: dict) -> None:
    south = clients["south_clinician"]
    real = south.get(url(world, "/api/v1/patients/{patient_id}"))
    missing = south.get("/api/v1/patients/999999")
    assert real.status_code == missing.status_code == 404
    assert real.json() == {"detail": "No such patient in your clinics."} == missing.json()

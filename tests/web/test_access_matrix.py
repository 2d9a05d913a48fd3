"""The access matrix, generated from the app's route table (issue 25, item 3): every route x
every role (anonymous, staff, a clinician of clinic A and of clinic B, researcher, admin, a
deactivated user, a user who must change a reset password) x a patient of each clinic, each
answer classified and compared with the route's declaration (`access_rules.py`). A route
without a declaration fails; so does any grant the declaration does not allow, and any
refusal it does not expect (so the declarations stay true).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import (
    add_record,
    create_episode,
    create_patient,
    create_user,
    reset_password,
    set_active,
    sign_assessment,
)
from sijcare.store.appointments import create_request
from sijcare.store.documents import add_document, documents_dir
from sijcare.store.models import FollowUpPoint
from sijcare.web.assessing import assess_episode
from sijcare.web.auth.access import ROLE_PERMISSIONS, Role
from sijcare.web.auth.passwords import hash_password
from tests.web.access_rules import PUBLIC, RULES, SIGNED_IN, Rule
from tests.web.conftest import PASSWORD, TODAY, World, build_world
from tests.web.test_access import app_routes

TEMPORARY = "a temporary passphrase for the matrix"
# (who, role, clinic): the clinic a user works in decides whose patients they may see
ROLES = {
    "anonymous": (None, None), "deactivated": ("clinician", "north"),
    "must_change": ("clinician", "north"),
    "staff": ("staff", "north"), "clinician": ("clinician", "north"),
    "south_clinician": ("clinician", "south"), "south_staff": ("staff", "south"),
    "researcher": ("researcher", None), "admin": ("admin", None),
}
# answers that end a session's request: last, so they do not sign the role out midway
SIGN_OUTS = {("POST", "/logout"), ("DELETE", "/api/v1/session")}


def _clinic_objects(world: World, db, clinic: str, author: str) -> None:
    """A patient with an episode, an intake, an injection (so follow-up points exist), a
    signed assessment and an appointment request, in `clinic`."""
    ago = (TODAY - dt.timedelta(days=20)).isoformat()
    patient = create_patient(db, world.ids[clinic], {
        "given_name": "Matrix", "family_name": clinic.capitalize(), "birth_date": "1966-06-06",
        "sex": "male", "external_id": f"M-{clinic}"}, world.ids[author])
    episode = create_episode(db, patient.id, {"complaint": "SI-joint pain", "opened_on": ago},
                             world.ids[author])
    intake = add_record(db, episode.id, "intake", {"pain_nrs": 5, "side": "left"},
                        world.ids[author], TODAY)
    add_record(db, episode.id, "procedure", {"date": ago, "kind": "steroid_injection",
                                             "side": "left", "guidance": "fluoroscopy"},
               world.ids[author], TODAY)
    signed = sign_assessment(db, episode.id, assess_episode(db, episode.id, "medicare", TODAY),
                             world.ids[author])
    point = db.scalar(select(FollowUpPoint.id).where(FollowUpPoint.episode_id == episode.id)
                      .order_by(FollowUpPoint.id).limit(1))
    request = create_request(db, world.ids[clinic], {
        "given_name": "Ann", "family_name": "Request", "birth_date": "1970-01-01",
        "phone": "555 0199", "consent": True})
    document = add_document(db, documents_dir(str(world.engine.url)), patient.id, "Letter",
                            "letter.pdf", b"%PDF-1.4\n%%EOF\n", world.ids[author])
    world.ids[f"{clinic}_document"] = document.id
    world.ids.update({f"{clinic}_patient": patient.id, f"{clinic}_episode": episode.id,
                      f"{clinic}_intake": intake.id, f"{clinic}_signed": signed.id,
                      f"{clinic}_point": point, f"{clinic}_request": request.id})


@dataclass
class Matrix:
    world: World
    clients: dict[str, TestClient]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    world = build_world(tmp_path_factory.mktemp("matrix"))
    hashed = hash_password(PASSWORD)
    with world.sessions() as db:
        for name in ("deactivated", "must_change", "target"):
            clinics = [] if name == "target" else [world.ids["north"]]
            world.ids[name] = create_user(db, name, hashed, "clinician" if clinics else "staff",
                                          clinics).id
        _clinic_objects(world, db, "north", "clinician")
        _clinic_objects(world, db, "south", "south_clinician")
        db.commit()
    clients = {name: world.signed_in(name) for name in ROLES
               if name not in ("anonymous", "must_change")}
    clients["anonymous"] = world.client()
    with world.sessions() as db:
        set_active(db, world.ids["deactivated"], False, world.ids["admin"])
        reset_password(db, world.ids["must_change"], hash_password(TEMPORARY),
                       world.ids["admin"])
        db.commit()
    clients["must_change"] = world.signed_in("must_change", TEMPORARY)
    yield Matrix(world, clients)
    world.engine.dispose()


def url(world: World, path: str, rule: Rule, owner: str) -> str:
    ids = world.ids
    filled = (path + (f"?{rule.query}" if rule.query else "")).format(
        patient_id=ids[f"{owner}_patient"], episode_id=ids[f"{owner}_episode"],
        kind="intake" if "{record_id}" in path else "exam", record_id=ids[f"{owner}_intake"],
        signed_id=ids[f"{owner}_signed"], point_id=ids[f"{owner}_point"],
        request_id=ids[f"{owner}_request"], user_id=ids["target"], clinic_id=ids["north"],
        merge_id=ids.get("merge", 999_999),
        document_id=ids[f"{owner}_document"],
        questionnaire_id="odi", slug="what-is-si-joint-pain", action="unsubscribe",
        token="not-a-real-token", service_id="sijcare-patient-view")
    return filled


def outcome(answer) -> str:
    status, location = answer.status_code, answer.headers.get("location", "")
    if status >= 500:
        return "error"
    if status == 401 or (status in (302, 303, 307) and location.startswith("/login")):
        return "sign_in"
    if location.startswith("/account/password") or (
            status == 403 and "password was reset" in answer.text):
        return "change_password"
    if location.startswith("/account/two-factor"):
        return "enrol"
    return {403: "forbidden", 404: "not_found"}.get(status, "granted")


def expected(rule: Rule, who: str, path: str, owner: str | None) -> str | None:
    """What `who` must get from the route; None for public routes (anything but an error)."""
    if rule.need == PUBLIC:
        return None
    if who in ("anonymous", "deactivated"):
        return "sign_in"
    if who == "must_change":
        return "granted" if path == "/account/password" else "change_password"
    if rule.need == SIGNED_IN:
        return "granted"
    role, clinic = ROLES[who]
    if rule.need not in ROLE_PERMISSIONS[Role(role)]:
        return "forbidden"
    if rule.scoped and owner != clinic:
        return "not_found"
    return "granted"


def routes() -> list[tuple[str, str]]:
    found = sorted({(method, path) for method, path, _ in app_routes()},
                   key=lambda route: (route in SIGN_OUTS, route))
    return found


def test_every_route_is_declared() -> None:
    found = set(routes())
    assert not found - set(RULES), "declare these routes in tests/web/access_rules.py"
    assert not set(RULES) - found, "these declared routes no longer exist"


@pytest.mark.parametrize("who", list(ROLES))
def test_the_matrix_has_no_unexpected_grant(matrix: Matrix, who: str) -> None:
    client, world = matrix.clients[who], matrix.world
    wrong, seen = [], Counter()
    for method, path in routes():
        if (method, path) not in RULES:
            continue  # test_every_route_is_declared names it
        rule = RULES[method, path]
        for owner in ("north", "south") if rule.scoped else ("north",):
            if method not in ("GET", "HEAD"):  # a valid CSRF token, so access is what is tested
                client.headers["x-csrf-token"] = client.get("/api/v1/session").json()[
                    "csrf_token"]
            answer = client.request(method, url(world, path, rule, owner),
                                    follow_redirects=False)
            got = outcome(answer)
            if answer.status_code in rule.own_answers:
                got = "granted"
            want = expected(rule, who, path, owner if rule.scoped else None)
            seen[got] += 1
            if got == "error" or (want is not None and got != want):
                wrong.append(f"{method} {path} [{owner}]: {got} ({answer.status_code}), "
                             f"declared {want}")
    assert not wrong, "\n".join(wrong)
    assert sum(seen.values()) >= len(RULES)

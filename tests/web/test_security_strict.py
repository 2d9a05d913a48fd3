"""Issue 20, L1-L4 and L6: strict numbers, text and yes/no at every edge.

Out-of-range and Unicode digits answered 500 (`²`, 2^63, a 5,000-digit number) or were
saved (Arabic-Indic digits, `1_0`); NUL and ESC reached the database (a 500 on PostgreSQL,
stored as is on SQLite) from sign-in, the newsletter, notes and correction reasons; a CR/LF
in the worklist's address answered 500 and a TAB was saved and mailed; `POST /api/v1/assess`
took `1` and `"yes"` for true; `as_of=0` and `from=0` were read as 1970-01-01. Each answers
422 naming the field now, and nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sijcare.store import EpisodeNote, IntakeRecord, PatientCorrection
from sijcare.store.models import (
    NewsletterSubscription,
    OutboxEmail,
    ProcedureOutcome,
    QuestionnaireLink,
    ReminderContact,
)
from tests.store.helpers import fresh_database
from tests.web.conftest import TODAY, World, build_world
from tests.web.public_helpers import TYPICAL, hidden, post_form, visitor
from tests.web.test_forms import error_of
from tests.web.test_questionnaire import shown_link
from tests.web.test_worklist import injection, points

DAY = TODAY.isoformat()
ARABIC_ONE = "\u0661"  # int() and float() read it as 1
NOT_ASCII_WHOLE = ["²", ARABIC_ONE, "1_0", "+3", " 3", "0x1", "1e3", "9" * 5000]
OUT_OF_RANGE_IDS = [str(2**63), str(2**31), "0", "-1"]
CONTROLS = ["\x00", "\x1b", "\r", "\n", "\t", "\x7f", "\x85"]


def count(world: World, table: type) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count()).select_from(table)) or 0


# -- L1: integers --------------------------------------------------------------------------


@pytest.mark.parametrize("value", OUT_OF_RANGE_IDS + NOT_ASCII_WHOLE)
@pytest.mark.parametrize("path", ["/worklist", "/registry", "/registry/report.pdf"])
def test_an_id_filter_is_an_ascii_whole_number_in_range(clinician: TestClient, path: str,
                                                        value: str) -> None:
    answer = clinician.get(path, params={"clinician": value})
    assert answer.status_code == 422, answer.text
    assert "clinician" in answer.text


def test_a_blank_or_real_clinician_filter_still_works(clinician: TestClient,
                                                      world: World) -> None:
    for path in ("/worklist", "/registry"):
        assert clinician.get(path, params={"clinician": ""}).status_code == 200
        assert clinician.get(path, params={"clinician": world.ids["clinician"]}
                             ).status_code == 200


@pytest.mark.parametrize(("name", "value"), [("point", "2w\x00"), ("point", "9y"),
                                             ("kind", "laser"), ("status", "done\x1b")])
def test_worklist_filters_take_the_listed_values_only(clinician: TestClient, name: str,
                                                     value: str) -> None:
    answer = clinician.get("/worklist", params={name: value})
    assert answer.status_code == 422 and name in answer.text
    assert clinician.get("/worklist", params={name: ""}).status_code == 200


@pytest.mark.parametrize("procedure_id", [2**63, 2**31, 0, -5])
def test_an_outcome_names_a_procedure_id_in_range(clinician: TestClient, world: World,
                                                  procedure_id: int) -> None:
    before = count(world, ProcedureOutcome)
    answer = clinician.post(f"/api/v1/episodes/{world.ids['episode']}/records/"
                            "procedure_outcome", json={"recorded_on": DAY, "data": {
                                "procedure_id": procedure_id, "date": DAY, "pgic": 2}})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "data", "procedure_id"]
    assert count(world, ProcedureOutcome) == before


@pytest.mark.parametrize("value", [*(v for v in NOT_ASCII_WHOLE if v.strip() == v),
                                   "nan", "inf", "1.", ".5", "7,5"])
def test_a_number_in_a_record_form_is_written_in_ascii_digits(clinician: TestClient,
                                                              world: World, value: str) -> None:
    before = count(world, IntakeRecord)
    answer = clinician.post(f"/episodes/{world.ids['episode']}/records/intake",
                            data={"pain_nrs": value, "side": "left", "recorded_on": DAY})
    assert answer.status_code == 422
    assert "enter a number" in error_of(answer.text, "pain_nrs")
    assert count(world, IntakeRecord) == before  # a half-valid form saves nothing
    kept = clinician.post(f"/episodes/{world.ids['episode']}/records/intake",
                          data={"pain_nrs": "6.5", "recorded_on": DAY}, follow_redirects=False)
    assert kept.status_code == 303


# -- L2: the questionnaire by link ---------------------------------------------------------


def test_an_anonymous_answer_with_a_strange_number_is_no_500(world: World) -> None:
    client = visitor(world)
    token = client.get("/api/v1/session").json()["csrf_token"]
    for value in ("²", "9" * 5000, ARABIC_ONE):
        answer = client.post("/q/not-a-token", data={"csrf_token": token, "nrs": value})
        assert answer.status_code == 404, answer.status_code  # the link is checked first


@pytest.mark.parametrize("value", ["²", "9" * 5000, ARABIC_ONE, "1_0", "11", "-1"])
def test_a_questionnaire_number_is_refused_by_name_and_the_link_stays_usable(
        world: World, clinician: TestClient, value: str) -> None:
    episode_id, _ = injection(world, days_ago=12)
    path = shown_link(clinician, episode_id, points(world, episode_id)["2w"].id)
    patient = visitor(world)
    form = patient.get(path).text
    sent = {"csrf_token": hidden(form, "csrf_token"), "pgic": "2"}
    refused = patient.post(path, data={**sent, "nrs": value})
    assert refused.status_code == 422
    assert re.search(r'id="err-nrs">[^<]*(whole number|between 0 and 10)',
                     refused.text), refused.text
    assert patient.post(path, data={**sent, "nrs": "3"}).status_code == 200


def test_a_questionnaire_comment_has_no_control_characters(world: World,
                                                            clinician: TestClient) -> None:
    episode_id, _ = injection(world, days_ago=12)
    path = shown_link(clinician, episode_id, points(world, episode_id)["2w"].id)
    patient = visitor(world)
    sent = {"csrf_token": hidden(patient.get(path).text, "csrf_token"), "nrs": "3", "pgic": "2"}
    for bad in ("a\x00b", "red \x1b[31m"):
        assert patient.post(path, data={**sent, "comment": bad}).status_code == 422
    done = patient.post(path, data={**sent, "comment": "Better.\r\nStill stiff\tin the morning"})
    assert done.status_code == 200
    with world.sessions() as db:
        kept = db.scalars(select(QuestionnaireLink.comment).where(
            QuestionnaireLink.comment.is_not(None))).all()
    assert "Better.\nStill stiff\tin the morning" in kept


# -- L3: control characters ----------------------------------------------------------------


@pytest.mark.parametrize("control", CONTROLS)
def test_a_username_with_a_control_character_is_refused_by_name(world: World,
                                                                control: str) -> None:
    client = visitor(world)
    token = client.get("/api/v1/session").json()["csrf_token"]
    api = client.post("/api/v1/session", json={"username": f"clin{control}ician",
                                               "password": "x"},
                      headers={"x-csrf-token": token})
    assert api.status_code == 422
    assert api.json()["detail"][0]["loc"] == ["body", "username"]
    page = client.post("/login", data={"csrf_token": token, "username": f"a{control}b",
                                       "password": "x"})
    assert page.status_code == 422 and "username" in page.text


@pytest.mark.parametrize("control", CONTROLS)
def test_a_newsletter_address_with_a_control_character_is_refused(world: World,
                                                                  control: str) -> None:
    before = count(world, NewsletterSubscription)
    client = visitor(world)
    form = client.get("/newsletter").text
    world.clock.now += 5
    answer = client.post("/newsletter", data={
        "csrf_token": hidden(form, "csrf_token"), "started": hidden(form, "started"),
        "email": f"ada{control}x@example.org"}, follow_redirects=False)
    assert answer.status_code == 422
    assert count(world, NewsletterSubscription) == before


@pytest.mark.parametrize("text", ["nul \x00 byte", "colour \x1b[31m", "bell \x07 x",
                                  "c1 \x85 x"])
def test_a_note_with_a_control_character_saves_nothing(clinician: TestClient, world: World,
                                                       text: str) -> None:
    before = count(world, EpisodeNote)
    answer = clinician.post(f"/episodes/{world.ids['episode']}/notes", data={"text": text})
    assert answer.status_code == 422 and "control characters" in answer.text
    assert count(world, EpisodeNote) == before


def test_a_note_keeps_its_lines_and_tabs(clinician: TestClient, world: World) -> None:
    answer = clinician.post(f"/episodes/{world.ids['episode']}/notes",
                            data={"text": "First line\r\nsecond\tline"}, follow_redirects=False)
    assert answer.status_code == 303
    with world.sessions() as db:
        assert db.scalars(select(EpisodeNote.text).order_by(EpisodeNote.id.desc())
                          ).first() == "First line\nsecond\tline"


@pytest.mark.parametrize("control", CONTROLS)
def test_a_correction_reason_is_one_line_of_text(clinician: TestClient, world: World,
                                                 control: str) -> None:
    before = count(world, PatientCorrection)
    answer = clinician.post(f"/patients/{world.ids['patient']}/edit", data={
        "family_name": "North", "given_name": "Adda", "birth_date": "1970-02-03",
        "sex": "female", "external_id": "N-1", "reason": f"typo{control}fixed"})
    assert answer.status_code == 422
    assert "control characters" in error_of(answer.text, "reason")
    assert count(world, PatientCorrection) == before


# -- L4: the worklist's "send link" address ------------------------------------------------


@pytest.mark.parametrize("email", ["ada@example.org\r\nBcc: eve@example.org",
                                   "ada@example.org\t", "ada\t@example.org",
                                   "a\x00da@example.org", "ada@example.org\n"])
def test_a_send_link_address_is_one_plain_address(clinician: TestClient, world: World,
                                                  email: str) -> None:
    episode_id, _ = injection(world, days_ago=12)
    point = points(world, episode_id)["2w"]
    mails, contacts = count(world, OutboxEmail), count(world, ReminderContact)
    answer = clinician.post(f"/episodes/{episode_id}/follow-up/{point.id}/send",
                            data={"email": email})
    assert answer.status_code == 422
    assert "email address" in answer.text
    assert (count(world, OutboxEmail), count(world, ReminderContact)) == (mails, contacts)


# -- L6: yes/no, dates and the OpenAPI -----------------------------------------------------

CASE = {"schema_version": 1, "as_of": "2026-01-01", "patient": {"id": "anonymous"}}


@pytest.mark.parametrize("value", [1, 0, "yes", "true", "false", None.__class__.__name__])
@pytest.mark.parametrize("where", ["patient.pregnant", "history.below_knee",
                                   "medications.anticoagulant"])
def test_assess_takes_yes_no_only_as_true_or_false(clinician: TestClient, value: object,
                                                   where: str) -> None:
    part, field = where.split(".")
    body = {**CASE, "patient": {**CASE["patient"]}}
    body.setdefault(part, {})[field] = value
    answer = clinician.post("/api/v1/assess", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", part, field]
    body[part][field] = True
    assert clinician.post("/api/v1/assess", json=body).status_code == 200


@pytest.mark.parametrize("as_of", ["0", "20260101", "2026-01-01T00:00:00", "2026-01-01T00:00Z",
                                   "1700000000", "2026-W01-1", "0001-01-01"])
def test_response_rates_take_a_day_written_yyyy_mm_dd(clinician: TestClient,
                                                      as_of: str) -> None:
    answer = clinician.get("/api/v1/follow-up/response-rates", params={"as_of": as_of})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "as_of"]


@pytest.mark.parametrize("day", ["0", "1700000000", "2026-01-01T00:00:00", "2026-W01-1"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_registry_dates_are_days_written_yyyy_mm_dd(clinician: TestClient, name: str,
                                                    day: str) -> None:
    for path in ("/registry", "/registry/report.pdf"):
        answer = clinician.get(path, params={name: day})
        assert answer.status_code == 422 and name in answer.text


def _schemas(spec: dict, node: object, seen: set[str], limited: bool = False
             ) -> list[tuple[dict, bool]]:
    """Every schema reachable from `node` (references followed once), each with whether it
    or a schema around it (`anyOf` of int and float) gives a minimum and a maximum."""
    found: list[tuple[dict, bool]] = []
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                found += _schemas(spec, spec["components"]["schemas"][name], seen)
            return found
        limited = limited or {"minimum", "maximum"} <= set(node)
        found.append((node, limited))
        for value in node.values():
            found += _schemas(spec, value, seen, limited)
    elif isinstance(node, list):
        for value in node:
            found += _schemas(spec, value, seen, limited)
    return found


def test_the_openapi_gives_enums_and_limits_for_what_clients_send(world: World) -> None:
    spec = world.client().get("/api/openapi.json").json()
    operations = [op for methods in spec["paths"].values() for op in methods.values()]
    parameters = {(p["name"], json_text(p["schema"])) for op in operations
                  for p in op.get("parameters", [])}
    enums = {name: schema for name, schema in parameters if '"enum"' in schema}
    assert {"sort", "policy"} <= set(enums), parameters
    sent = _schemas(spec, [op.get("requestBody") for op in operations]
                    + [p["schema"] for op in operations for p in op.get("parameters", [])],
                    set())
    for schema, limited in sent:
        assert not {"ge", "le", "gt", "lt"} & set(schema), schema  # pydantic's words leaked
        if schema.get("type") == "integer" and "const" not in schema:
            assert limited, schema
        if schema.get("format") == "date":
            assert schema.get("pattern") == "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", schema
    patient_in = spec["components"]["schemas"]["PatientIn"]["properties"]
    assert "enum" in json_text(patient_in["payer"])
    signature_in = spec["components"]["schemas"]["SignatureIn"]["properties"]
    assert "enum" in json_text(signature_in["policy"])


def json_text(schema: object) -> str:
    import json

    return json.dumps(schema, sort_keys=True)


@pytest.mark.parametrize("months", [ARABIC_ONE + "2", "1_2", "nan", "1e1", "²"])
def test_the_self_check_reads_numbers_written_in_ascii_digits_only(world: World,
                                                                   months: str) -> None:
    client = visitor(world)
    answer = post_form(client, client.get("/screen").text, "/screen/result",
                       {**TYPICAL, "duration_months": months})
    assert answer.status_code == 422
    assert "How many months" in answer.text or "number" in answer.text


# -- the same edges on PostgreSQL, which answered 500 where SQLite stored --------------------


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("postgres")
    with fresh_database("postgresql", directory) as url:
        built = build_world(directory, url=url)
        yield built
        built.engine.dispose()


def test_on_postgresql_bad_text_and_numbers_are_refused_not_500(postgres: World) -> None:
    world, clinician = postgres, postgres.signed_in("clinician")
    stranger = visitor(world)
    token = stranger.get("/api/v1/session").json()["csrf_token"]
    assert stranger.post("/login", data={"csrf_token": token, "username": "a\x00b",
                                         "password": "x"}).status_code == 422
    assert stranger.post("/api/v1/session", headers={"x-csrf-token": token}, json={
        "username": "a\x00b", "password": "x"}).status_code == 422
    form = stranger.get("/newsletter").text
    world.clock.now += 5
    assert stranger.post("/newsletter", data={
        "csrf_token": hidden(form, "csrf_token"), "started": hidden(form, "started"),
        "email": "a\x00b@example.org"}).status_code == 422
    episode, patient = world.ids["episode"], world.ids["patient"]
    assert clinician.post(f"/episodes/{episode}/notes", data={"text": "a\x00b"}
                          ).status_code == 422
    assert clinician.post(f"/patients/{patient}/edit", data={
        "family_name": "North", "given_name": "Adda", "birth_date": "1970-02-03",
        "sex": "female", "reason": "typo\x00"}).status_code == 422
    for path, params in (("/worklist", {"clinician": str(2**31)}),
                         ("/worklist", {"point": "2w\x00"}),
                         ("/registry", {"clinician": str(2**31)}),
                         ("/api/v1/patients", {"q": "Ada\x00"})):
        assert clinician.get(path, params=params).status_code == 422, (path, params)
    outcome = clinician.post(f"/api/v1/episodes/{episode}/records/procedure_outcome", json={
        "recorded_on": DAY, "data": {"procedure_id": 2**31, "date": DAY, "pgic": 2}})
    assert outcome.status_code == 422

"""Appointment requests with several clinics: the person chooses the clinic on the form (or
SIJCARE_CLINIC_NAME names it), and with no clinic to ask the page says so, with the phone
number, before anyone types."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sijcare.store import make_engine, upgrade
from sijcare.store.models import AppointmentRequest
from sijcare.web import create_app
from sijcare.web.settings import Settings
from tests.web.conftest import World
from tests.web.public_helpers import PERSON, request_appointment, visitor


@pytest.fixture
def unnamed(world: World) -> Iterator[World]:
    """The world's two clinics, with no SIJCARE_CLINIC_NAME matching either."""
    settings = world.app.state.settings
    world.app.state.settings = dataclasses.replace(settings, clinic_name="Somewhere else")
    yield world
    world.app.state.settings = settings


def test_with_two_clinics_the_person_chooses_and_every_problem_is_shown_at_once(
        unnamed: World) -> None:
    client = visitor(unnamed)
    form = client.get("/appointment").text
    assert "Which clinic do you want to see?" in form
    assert "North Clinic" in form and "South Clinic" in form
    refused = request_appointment(unnamed, visitor(unnamed), {**PERSON, "given_name": ""})
    assert refused.status_code == 422
    assert "choose the clinic you want to see" in refused.text
    assert "First name" in refused.text  # the other problem in the same answer
    sent = request_appointment(unnamed, visitor(unnamed),
                               {**PERSON, "clinic_id": str(unnamed.ids["south"])})
    assert sent.status_code == 303
    with unnamed.sessions() as db:
        latest = db.scalars(select(AppointmentRequest).order_by(
            AppointmentRequest.id.desc())).first()
    assert latest.clinic_id == unnamed.ids["south"]


def test_the_named_clinic_is_asked_without_a_choice(world: World) -> None:
    form = visitor(world).get("/appointment").text  # the world names "North Clinic"
    assert "Which clinic" not in form
    assert request_appointment(world, visitor(world), PERSON).status_code == 303


def test_with_no_clinic_the_page_says_so_with_the_phone_before_the_form(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('closed') / 'empty.db'}"
    engine = make_engine(url)
    upgrade(engine)  # a fresh installation: no clinic yet
    app = create_app(Settings(database_url=url, secret_key=b"test secret",
                              clinic_phone="555 0199"), engine)
    page = TestClient(app).get("/appointment")
    assert page.status_code == 503
    assert "cannot be sent online" in page.text and "call us on 555 0199" in page.text
    assert "<form" not in page.text.split("<main")[1]  # nothing to fill in and lose
    engine.dispose()

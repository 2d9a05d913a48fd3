"""Filling the public forms as a person would: read the page, send what it asks for."""

from __future__ import annotations

import html
import itertools
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import World

RED_FLAGS = ("saddle_numbness", "bladder_or_bowel_change", "leg_weakness_worsening",
             "fever_or_unwell", "cancer_history", "unexplained_weight_loss",
             "major_fall_or_accident", "weak_immune_system", "fall_with_thin_bones")
NO_FLAGS = {f"red_flags.{k}": "no" for k in RED_FLAGS}
TYPICAL = {**NO_FLAGS, "points_one_finger_near_psis": "yes", "groin_pain": "yes",
           "worse_sitting_on_chair": "yes", "below_knee": "no",
           "foot_numbness_or_tingling": "no", "duration_months": "6",
           "pain_areas.sij_region": "70", "pain_areas.buttock_leg": "30",
           "tried": ["physical_therapy", "nsaid"], "tried_asked": "1"}
PERSON = {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1970-02-03",
          "email": "ada@example.org", "phone": "", "preferred_times": "Mornings",
          "message": "Pain on the left for months.", "consent": "yes"}
_addresses = itertools.count(1)


def visitor(world: World) -> TestClient:
    """An anonymous client from an address of its own (the rate limit is per address)."""
    return TestClient(world.app, client=(f"198.51.100.{next(_addresses)}", 40000))


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return html.unescape(found.group(1))


def post_form(client: TestClient, page: str, url: str, data: dict[str, Any]):
    return client.post(url, data={"csrf_token": hidden(page, "csrf_token"), **data},
                       follow_redirects=False)


def screen_result(client: TestClient, answers: dict[str, Any]) -> str:
    start = client.get("/screen").text
    return post_form(client, start, "/screen/result", answers).text


def request_appointment(world: World, client: TestClient, person: dict[str, Any],
                        screen: dict[str, Any] | None = None, wait: float = 5):
    """The appointment form, from the self-check result when `screen` is given."""
    if screen is None:
        form = client.get("/appointment").text
    else:
        result = screen_result(client, screen)
        form = post_form(client, result, "/appointment/with-self-check",
                         {"screen": hidden(result, "screen")}).text
    data = {"started": hidden(form, "started"), **person}
    if 'name="screen"' in form:
        data["screen"] = hidden(form, "screen")
    world.clock.now += wait
    return post_form(client, form, "/appointment", data)

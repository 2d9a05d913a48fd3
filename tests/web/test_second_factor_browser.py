"""A TOTP sign-in end to end in Chromium (issue 25's acceptance): an admin without a second
factor is sent to enrol, scans nothing but reads the key off the page (the QR code beside it
is checked to be there), types a code computed with pyotp, keeps the recovery codes, and then
signs in on a new browser with password and code."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest

from tests.web.browsing import CHROMIUM, browser, sign_in
from tests.web.browsing import served as serving
from tests.web.conftest import PASSWORD, World, build_world

if not CHROMIUM.exists():
    pytest.skip("!!! /usr/bin/chromium is MISSING: the browser tests did NOT run "
                "(apt-get install chromium) !!!", allow_module_level=True)

from playwright.sync_api import Browser, expect

from sijcare.store import create_user
from sijcare.web.auth.passwords import hash_password

__all__ = ["browser"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = build_world(tmp_path_factory.mktemp("mfa-browser"))
    with world.sessions() as db:
        create_user(db, "fresh_admin", hash_password(PASSWORD), "admin", [])
        db.commit()
    with serving(world) as base:
        yield base, world
    world.engine.dispose()


def test_an_admin_enrols_and_signs_in_with_a_totp_code(served: tuple[str, World],
                                                       browser: Browser) -> None:
    base, world = served
    first = browser.new_context()
    page = first.new_page()
    sign_in(page, base, "fresh_admin")
    page.goto(f"{base}/admin/users")
    page.wait_for_url("**/account/two-factor")
    expect(page.get_by_role("img", name="Authenticator QR code")
           .or_(page.locator("svg.segno"))).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("does not match")
    world.clock.now += 30
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(world.clock.now))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.goto(f"{base}/admin/users")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    first.close()

    second = browser.new_context()
    page = second.new_page()
    page.goto(f"{base}/login?next=/admin/users")
    page.get_by_label("Username").fill("fresh_admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/code**")
    page.get_by_label("One-time code").fill("123456")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong or already used code")
    world.clock.now += 30
    page.get_by_label("One-time code").fill(pyotp.TOTP(secret).at(world.clock.now))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin/users")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    second.close()

    third = browser.new_context()  # the world's admin through the shared helper
    page = third.new_page()
    sign_in(page, base, "admin", world.one_time_code("admin"))
    assert page.goto(f"{base}/admin/users").status == 200
    third.close()

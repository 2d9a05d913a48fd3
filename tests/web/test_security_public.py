"""Issue 20, L11 and L12: a public form is sent once per showing, and PDFs fetch nothing but
the app's own static files.

L11: the signed "started" field held only the time, so one form fetched once could be sent
again and again for 12 hours, from any address, with anything in it. L12: WeasyPrint used its
default URL fetcher, which reads `file://` URLs (and fetches `http://` ones) named in the HTML.
"""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sijcare.reports.pdf import Report
from sijcare.reports.weasy import STATIC, RefusedURL, fetch
from sijcare.store.models import AppointmentRequest, NewsletterSubscription
from sijcare.web.public import handouts
from tests.web.conftest import World
from tests.web.public_helpers import PERSON, hidden, visitor


def stored(world: World, table: type) -> int:
    with world.sessions() as db:
        return db.scalar(select(func.count()).select_from(table)) or 0


@pytest.mark.parametrize(("path", "table", "fields"), [
    ("/newsletter", NewsletterSubscription, {"email": "once@example.org"}),
    ("/appointment", AppointmentRequest, PERSON)])
def test_a_form_shown_once_is_sent_once(world: World, path: str, table: type,
                                        fields: dict) -> None:
    first = visitor(world)
    form = first.get(path).text
    world.clock.now += 5
    started = hidden(form, "started")
    sent = first.post(path, data={"csrf_token": hidden(form, "csrf_token"),
                                  "started": started, **fields}, follow_redirects=False)
    assert sent.status_code == 303
    after_first = stored(world, table)
    for sender in (first, visitor(world)):  # again, and from another address
        token = hidden(sender.get(path).text, "csrf_token")
        world.clock.now += 5
        changed = {key: "eve." + value if key in ("email", "family_name") else value
                   for key, value in fields.items()}
        replay = sender.post(path, data={"csrf_token": token, "started": started, **changed},
                             follow_redirects=False)
        assert replay.status_code == 303  # told nothing, like a robot
    assert stored(world, table) == after_first


def test_two_forms_shown_in_the_same_second_are_both_good(world: World) -> None:
    before = stored(world, NewsletterSubscription)
    people = [visitor(world), visitor(world)]
    forms = [person.get("/newsletter").text for person in people]  # the clock stands still
    assert hidden(forms[0], "started") != hidden(forms[1], "started")
    world.clock.now += 5
    for n, (person, form) in enumerate(zip(people, forms, strict=True)):
        assert person.post("/newsletter", data={
            "csrf_token": hidden(form, "csrf_token"), "started": hidden(form, "started"),
            "email": f"same.second.{n}@example.org"}, follow_redirects=False).status_code == 303
    assert stored(world, NewsletterSubscription) == before + 2


# -- L12: what a PDF may fetch -------------------------------------------------------------

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
                       "HwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


@contextmanager
def recording_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that serves a PNG and notes every path asked for."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def images_in(pdf: bytes) -> int:
    return pdf.count(b"/Subtype /Image")


def test_a_pdf_fetches_no_file_and_no_other_server(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    styles = tmp_path / "evil.css"
    styles.write_text("body { background: url('secret.png') }")
    with recording_server() as (base, asked):
        html = (f'<link rel="stylesheet" href="{styles.as_uri()}">'
                f'<p>A report</p><img src="{secret.as_uri()}"><img src="{base}/tracker.png">')
        pdf = Report("A report", html).pdf
    assert pdf.startswith(b"%PDF")
    assert images_in(pdf) == 0
    assert asked == []


def test_a_pdf_keeps_its_embedded_charts_and_the_apps_own_files() -> None:
    embedded = f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}">'
    assert images_in(Report("Chart", embedded).pdf) >= 1  # (with its alpha mask)
    assert fetch((STATIC / "site.css").as_uri())["mime_type"] == "text/css"
    for refused in ("file:///etc/passwd", "file://localhost/etc/passwd",
                    (STATIC / ".." / "app.py").as_uri(), "file://elsewhere/x.css",
                    "http://127.0.0.1/x.png", "https://example.org/x.css", "ftp://x/y"):
        with pytest.raises(RefusedURL):
            fetch(refused)


def test_handouts_are_written_through_the_same_fetcher(monkeypatch: pytest.MonkeyPatch,
                                                       world: World) -> None:
    used = []
    monkeypatch.setattr(handouts, "write_pdf", lambda html: used.append(html) or b"%PDF-")
    handouts.handout_pdf.cache_clear()
    assert world.client().get("/learn/rfa/handout.pdf").status_code == 200
    assert used and "<html" in used[0]
    handouts.handout_pdf.cache_clear()

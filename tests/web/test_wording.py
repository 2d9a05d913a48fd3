"""Issue 22, item 9: every page and form of the demo, read as each role reads it, says things in
the clinic's words. The pages are every GET route of `access_rules.py` filled with the access
matrix's ids (every record form kind, every demo episode), fetched by every role that may open
them; each page's visible text fails on a raw code (a snake_case word), a sentence said twice,
or a library's message."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from sijcare.web.clinic.forms import FIRST_VISIT, record_forms
from tests.web.access_rules import RULES
from tests.web.browsing import demo_world
from tests.web.conftest import World
from tests.web.test_access_matrix import ROLES, _clinic_objects, expected, url

READERS = ("anonymous", "staff", "clinician", "south_clinician", "researcher", "admin")
LIBRARY_MESSAGES = ("Input should be", "unable to parse", "Field required", "value_error",
                    "Traceback", "validation error for", "type=", "NoneType")
URL = re.compile(r"https?://\S+")  # an address is shown as it is
RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
SKIPPED = {"script", "style", "template", "svg"}
ITEMS = {"li", "tr", "article"}
LITERAL = {"pre", "code"}
TRACKED = SKIPPED | ITEMS | LITERAL | {"details"}


@dataclass
class Line:
    text: str
    repeats: bool = False  # one item of a list, table or timeline, or a closed disclosure
    literal: bool = False  # data shown as it is stored (the signed snapshot)


class VisibleText(HTMLParser):
    """The text a person (or a screen reader) meets on the page, one block a line. A phrase
    may repeat by design in the items of a list, table or timeline (every entry has its
    author, every row its hint) and in closed disclosures (each rule's sources)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines = [Line("")]
        self.open: list[tuple[str, bool]] = []  # (tag, its text repeats by design)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        summary = "error-summary" in (names.get("class") or "")
        if tag in TRACKED or summary:
            closed = tag == "details" and "open" not in names
            self.open.append((tag, closed or (tag in ITEMS and not self.in_error_summary)))
        self.lines.append(Line(""))

    @property
    def in_error_summary(self) -> bool:
        return any(tag == "div" for tag, _ in self.open)

    def handle_endtag(self, tag: str) -> None:
        tags = [t for t, _ in self.open]
        if tag in tags:
            del self.open[len(tags) - 1 - tags[::-1].index(tag):]
        self.lines.append(Line(""))

    def handle_data(self, data: str) -> None:
        tags = {t for t, _ in self.open}
        if tags & SKIPPED:
            return
        line = self.lines[-1]
        line.text += data
        line.repeats = any(r for _, r in self.open)
        line.literal = bool(tags & LITERAL)


def visible_lines(html: str) -> list[Line]:
    parser = VisibleText()
    parser.feed(html)
    return [Line(" ".join(line.text.split()), line.repeats, line.literal)
            for line in parser.lines if line.text.strip()]


def sentences(lines: list[Line]) -> Iterator[str]:
    """The page's own sentences of six words or more (short labels repeat by design)."""
    for line in lines:
        for sentence in [] if line.repeats else re.split(r"(?<=[.!?])\s+", line.text):
            if len(sentence.split()) >= 6:
                yield sentence


def problems(html: str, data: set[str]) -> list[str]:
    """What is wrong with the page's wording; `data` are names the world typed (usernames)."""
    lines = visible_lines(html)
    text = "\n".join(line.text for line in lines)
    worded = URL.sub("", "\n".join(line.text for line in lines if not line.literal))
    found = [f"raw code {code!r}" for code in sorted(set(RAW_CODE.findall(worded)) - data)]
    found += [f"library message {m!r}" for m in LIBRARY_MESSAGES if m in text]
    found += [f"said {n} times: {s!r}" for s, n in Counter(sentences(lines)).items() if n > 1]
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict]]:
    """The demo world with the access matrix's objects in both clinics."""
    world = demo_world(tmp_path_factory.mktemp("wording"))
    from sijcare.store import create_user
    from sijcare.web.auth.passwords import hash_password
    from tests.web.conftest import PASSWORD

    with world.sessions() as db:
        world.ids["target"] = create_user(db, "target", hash_password(PASSWORD), "staff",
                                          []).id
        _clinic_objects(world, db, "north", "clinician")
        _clinic_objects(world, db, "south", "south_clinician")
        db.commit()
    clients = {who: world.client() if who == "anonymous" else world.signed_in(who)
               for who in READERS}
    yield world, clients
    world.engine.dispose()


def pages(world: World, who: str) -> Iterator[str]:
    """Every GET page `who` may open, with the matrix's ids, every record form and every
    demo episode."""
    clinic = ROLES[who][1] or "north"
    for (method, path), rule in sorted(RULES.items()):
        if method != "GET" or path.startswith(("/api", "/fhir", "/cds-services", "/smart")):
            continue
        if expected(rule, who, path, clinic if rule.scoped else None) not in (None, "granted"):
            continue
        filled = url(world, path, rule, clinic)
        if path == "/episodes/{episode_id}/records/{kind}":
            yield from (filled.replace("/exam", f"/{kind}")
                        for kind in (*record_forms(), FIRST_VISIT))
        elif path == "/episodes/{episode_id}" and who != "south_clinician":
            yield filled
            yield from (f"/episodes/{e}" for e in world.ids["demo_episodes"])
        else:
            yield filled


@pytest.mark.parametrize("who", READERS)
def test_every_page_speaks_the_clinics_words(demo: tuple[World, dict], who: str) -> None:
    world, clients = demo
    data = {"south_staff", "south_clinician", "must_change"}  # usernames are the users' own
    wrong, read = [], 0
    for address in pages(world, who):
        answer = clients[who].get(address)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        read += 1
        wrong += [f"{address}: {p}" for p in problems(answer.text, data)]
    assert read >= 10, f"only {read} pages read as {who}"
    assert not wrong, "\n".join(wrong)


def test_the_reader_catches_what_it_looks_for() -> None:
    page = ("<title>T</title><script>var raw_code = 1</script><p>Nsaid given: sij_belt.</p>"
            "<p>Input should be a valid number</p><p>This sentence is said twice on the page."
            "</p><div>This sentence is said twice on the page.</div>"
            "<ul><li>Every row may say this same long hint.</li>"
            "<li>Every row may say this same long hint.</li></ul>"
            "<details><summary>Sources</summary><pre>as_signed</pre></details>")
    assert problems(page, set()) == [
        "raw code 'sij_belt'", "library message 'Input should be'",
        "said 2 times: 'This sentence is said twice on the page.'"]

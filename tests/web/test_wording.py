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
USERS = {"south_staff", "south_clinician"}  # usernames are the users' own words
RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
SKIPPED = {"script", "style", "template", "svg"}
ITEMS = {"li", "tr", "article"}
LITERAL = {"pre", "code"}
TRACKED = SKIPPED | ITEMS | LITERAL | {"details"}
BLOCKS = ITEMS | {"p", "td", "th", "h1", "h2", "h3", "h4", "dt", "dd", "label", "legend",
                  "option", "button", "summary", "caption", "figcaption", "title", "div",
                  "section", "br", "blockquote", "pre", "details", "ul", "ol", "table"}


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
        classes = (names.get("class") or "").split()
        field_error = tag == "p" and "error" in classes  # said beside each field it is about
        if tag in TRACKED or "error-summary" in classes or field_error:
            closed = tag == "details" and "open" not in names
            item = tag in ITEMS and not self.in_error_summary
            self.open.append((tag, closed or item or field_error))
        if tag in BLOCKS:
            self.lines.append(Line(""))

    @property
    def in_error_summary(self) -> bool:
        return any(tag == "div" for tag, _ in self.open)

    def handle_endtag(self, tag: str) -> None:
        tags = [t for t, _ in self.open]
        if tag in tags:
            del self.open[len(tags) - 1 - tags[::-1].index(tag):]
        if tag in BLOCKS:
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


WRONG = {"number": "twelve", "date": "31/02/2026", "email": "nobody", "tel": "phone"}


class DataEntryForms(HTMLParser):
    """The page's data-entry forms (`novalidate`: the server's checks are the ones that
    speak) as (action, fields), every field given a wrong or empty value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self.current: list[tuple[str, str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k: v or "" for k, v in attrs}
        if tag == "form":
            entry = (names.get("method") == "post" and "novalidate" in names)
            self.current = [] if entry else None
            if entry:
                self.forms.append((names.get("action", ""), self.current))
        elif self.current is not None and "name" in names:
            kind = names.get("type", "text")
            value = (names.get("value", "") if kind == "hidden" else
                     "nonsense" if tag == "select" or kind in ("radio", "checkbox") else
                     WRONG.get(kind, ""))
            if tag in ("input", "select", "textarea") and kind != "file":
                self.current.append((names["name"], value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def data_entry_forms(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    parser = DataEntryForms()
    parser.feed(html)
    return parser.forms


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
    wrong, read = [], 0
    for address in pages(world, who):
        answer = clients[who].get(address)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        read += 1
        wrong += [f"{address}: {p}" for p in problems(answer.text, USERS)]
    assert read >= 10, f"only {read} pages read as {who}"
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("who", READERS)
def test_every_form_refuses_wrong_entries_in_the_clinics_words(demo: tuple[World, dict],
                                                               who: str) -> None:
    """Each data-entry form sent with every field wrong or empty: the answer names the
    problems in the form's words, never a library's."""
    world, clients = demo
    wrong, sent, seen = [], 0, set()
    for address in pages(world, who):
        answer = clients[who].get(address)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        for action, fields in data_entry_forms(answer.text):
            key = re.sub(r"\d+", "N", f"{action or address} {sorted(n for n, _ in fields)}")
            if key in seen:
                continue
            seen.add(key)
            sent += 1
            body: dict[str, list[str]] = {}
            for name, value in fields:
                body.setdefault(name, []).append(value)
            refused = clients[who].post(action or address, data=body)
            assert refused.status_code < 500, f"{action}: {refused.status_code}"
            wrong += [f"{action} (from {address}): {p}" for p in problems(refused.text, USERS)]
    if who != "researcher":  # a researcher has no data-entry form
        assert sent >= 3, f"only {sent} forms sent as {who}"
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

"""Issue 25, item 4: XSS payloads in every free-text field a user can fill, checked in
Chromium on every page that shows them, with the real CSP on.

Each field gets its own payload, tagged so the page can be checked for it: a `<script>`, an
attribute breakout into `<img onerror>`, an `<svg onload>`, `javascript:` text and template
syntax (`{{7*7}}`, `{% raw %}`). Clinic data is seeded through the store (faster than forms);
the public forms (appointment request, newsletter, questionnaire by link) and the
break-glass form are filled in the browser. On every page: no dialog, `window.__xss` never
set, no injected element in the DOM, no CSP violation (something tried to run), and every
payload expected there shown as text, whole (so `{{7*7}}` is never 49). The PDFs (episode
report, signed assessment) are read with pdftotext and must hold the payloads as text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page

from sijcare.store import add_note, add_record, create_episode, create_patient, sign_assessment
from sijcare.store.addenda import add_addendum
from sijcare.store.cds_hooks import add_feedback
from sijcare.store.documents import add_document, documents_dir
from sijcare.store.merges import merge_patients, unmerge_patients
from sijcare.store.patients import correct_patient
from sijcare.store.recent import set_medication_list
from sijcare.store.records import void_record
from sijcare.store.users import set_profile
from sijcare.web.assessing import assess_episode
from sijcare.web.middleware.headers import CSP
from tests.fuzzing import report_counts
from tests.web.browsing import browser, served, sign_in
from tests.web.conftest import TODAY, World
from tests.web.test_questionnaire import shown_link
from tests.web.test_worklist import injection, points

__all__ = ["browser"]


def short(tag: str) -> str:
    """Every payload kind in 100 characters (names and other short fields)."""
    return (f"[{tag}]<script>__xss=1</script>\"><img src=x onerror=\"__xss=1\">"
            "<svg onload=\"__xss=1\">{{7*7}}{% raw %}")


def long(tag: str) -> str:
    """The payloads as the issue writes them, for fields that hold a paragraph."""
    return (f"[{tag}]<script>window.__xss=1</script> \"><img src=x onerror=\"window.__xss=1\"> "
            "<svg onload=\"window.__xss=1\"> javascript:window.__xss=1 {{7*7}} {% raw %} "
            "'><svg/onload=window.__xss=1>")


def file_name(tag: str) -> str:
    """A file name keeps what follows its last slash, so this payload has none."""
    return f"[{tag}]\"><img src=x onerror=\"__xss=1\"><svg onload=\"__xss=1\">{{{{7*7}}}}.pdf"


# A page's state after it loaded, read in the page; the CSP listener is installed first.
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', e =>
    (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"""
STATE = """() => ({
  xss: typeof window.__xss,
  scripts: [...document.scripts].filter(s => !s.src || s.textContent.includes('__xss')).length,
  handlers: document.querySelectorAll('[onerror], [onload]').length,
  stray_img: document.querySelectorAll('img[src="x"]').length,
  js_urls: document.querySelectorAll(
    '[href^="javascript:" i], [src^="javascript:" i], [action^="javascript:" i]').length,
  csp: window.__csp || [],
  text: document.body.textContent + '\\n' +
        [...document.querySelectorAll('input, textarea')].map(e => e.value).join('\\n'),
})"""


@dataclass
class Seeded:
    """The payloads by tag, and the ids of the records that carry them."""

    values: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def put(self, tag: str, maker=short) -> str:  # type: ignore[no-untyped-def]
        self.values[tag] = maker(tag)
        return self.values[tag]


def seed(world: World) -> Seeded:
    """Every clinic-side free-text field, filled through the store as the forms would."""
    seeded = Seeded()
    put = seeded.put
    clinician = world.ids["clinician"]
    with world.sessions() as db:
        patient = create_patient(db, world.ids["north"], {
            "given_name": put("gn"), "family_name": put("fn"), "birth_date": "1971-03-04",
            "sex": "female", "external_id": put("id"), "address": put("ad", long),
            "phone": "555 0199"}, clinician)
        episode = create_episode(db, patient.id, {"complaint": put("co"),
                                                  "opened_on": TODAY.isoformat()}, clinician)
        add_record(db, episode.id, "intake", {"pain_nrs": 6, "side": "left"}, clinician, TODAY)
        set_medication_list(db, patient.id, put("ml", long), put("al", long), clinician)
        add_note(db, episode.id, put("nt", long), clinician, TODAY)
        wrong = add_record(db, episode.id, "medications", {"anticoagulant": False},
                           clinician, TODAY)
        void_record(db, episode.id, "medications", wrong.id, clinician, put("vr"), TODAY)
        correct_patient(db, patient.id, {
            "given_name": seeded.values["gn"], "family_name": seeded.values["fn"],
            "birth_date": "1971-03-04", "sex": "female", "external_id": seeded.values["id"],
            "address": seeded.values["ad"], "phone": "555 0198"}, put("cr"), clinician)
        set_profile(db, clinician, put("un"), put("uc"), world.ids["admin"])
        signed = sign_assessment(db, episode.id, assess_episode(db, episode.id, "medicare",
                                                                TODAY), clinician)
        add_addendum(db, signed.id, put("dd", long), clinician)
        twin = create_patient(db, world.ids["north"], {
            "given_name": put("mg"), "family_name": "Twin", "birth_date": "1971-03-04",
            "sex": "female"}, clinician)
        merge_patients(db, twin.id, patient.id, put("mr"), clinician)
        other = create_patient(db, world.ids["north"], {
            "given_name": "Other", "family_name": "Twin", "birth_date": "1971-03-04",
            "sex": "female"}, clinician)
        undone = merge_patients(db, other.id, patient.id, "registered twice by mistake",
                                clinician)
        unmerge_patients(db, undone.id, put("ur"), world.ids["admin"])
        add_feedback(db, "sijcare-sij", "https://ehr.example.org", {  # the EHR's text, parsed
            "card": "4a8f6c1e-0000-4000-8000-000000000001", "outcome": "overridden",
            "outcomeTimestamp": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "overrideReason": {"reason": {"code": "other", "display": put("od", long)},
                               "userComment": put("oc", long)}}, {"rule": "sij_injection"})
        add_document(db, documents_dir(str(world.engine.url)), patient.id, put("dt"),
                     put("df", file_name), b"%PDF-1.4\n%%EOF\n", clinician)
        db.commit()
        seeded.ids.update(patient=patient.id, episode=episode.id, signed=signed.id,
                          merged=twin.id)
    return seeded


@dataclass
class Sweep:
    """What was checked: (page, tag) pairs shown as text, the pages, the dialogs opened."""

    checked: list[tuple[str, str]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def check(page: Page, name: str, seeded: Seeded, tags: list[str], sweep: Sweep) -> None:
    """Nothing of the payloads ran or became an element; each of `tags` is shown whole."""
    state = page.evaluate(STATE)
    assert state["xss"] == "undefined", (name, "window.__xss was set")
    assert not sweep.dialogs, (name, sweep.dialogs)
    for what in ("scripts", "handlers", "stray_img", "js_urls"):
        assert state[what] == 0, (name, what, state[what])
    assert state["csp"] == [], (name, "CSP violations", state["csp"])
    for tag in tags:
        assert seeded.values[tag] in state["text"], (name, tag, "not shown as text, whole")
        sweep.checked.append((name, tag))
    assert "]49" not in state["text"] and "49{%" not in state["text"], name
    sweep.seen.append(name)


@pytest.fixture(scope="module")
def seeded(world: World) -> Seeded:
    return seed(world)


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with served(world) as url:
        yield url


@pytest.fixture(scope="module")
def sweep() -> Sweep:
    return Sweep()


def new_page(browser: Browser, sweep: Sweep) -> Page:
    """A page with the real CSP (not bypassed), its violations and dialogs recorded."""
    context = browser.new_context()
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.set_default_timeout(60_000)  # a ceiling for a loaded machine, not a timing

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        sweep.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def test_the_checks_see_an_injection_the_csp_stopped(browser: Browser, base: str) -> None:
    """The checks can fail: a page of this origin with the app's CSP and unescaped payloads
    shows the injected elements and the CSP's reports, and nothing ran."""
    page = new_page(browser, Sweep())
    page.route(f"{base}/probe", lambda route: route.fulfill(
        status=200, body=f"<!doctype html><body>{long('pr')}</body>",
        headers={"content-type": "text/html", "content-security-policy": CSP}))
    page.goto(f"{base}/probe")
    page.wait_for_timeout(200)  # the reports are events, sent after the page is parsed
    state = page.evaluate(STATE)
    assert state["xss"] == "undefined"
    assert state["scripts"] and state["handlers"] and state["stray_img"]
    assert any(report.startswith("script-src") for report in state["csp"]), state["csp"]
    page.context.close()


def fill_public_forms(browser: Browser, base: str, world: World, seeded: Seeded,
                      sweep: Sweep) -> None:
    """The appointment request (refused, then sent), the newsletter, a questionnaire link."""
    page = new_page(browser, sweep)
    page.goto(f"{base}/appointment")
    if page.get_by_label("North Clinic").count():  # several public clinics: choose one
        page.get_by_label("North Clinic").check()
    page.get_by_label("First name").fill(seeded.put("ag"))
    page.get_by_label("Last name").fill(seeded.put("af"))
    page.get_by_label("Date of birth").fill("1975-06-07")
    page.get_by_label("Email").fill("pat.xss@example.org")
    page.get_by_label("Good times to reach you").fill(seeded.put("at"))
    page.get_by_label("Anything you want us to know").fill(seeded.put("am", long))
    world.clock.now += 10
    page.get_by_role("button", name="Send my request").click()  # no consent: echoed back
    check(page, "appointment form, refused", seeded, ["ag", "af", "at", "am"], sweep)
    page.get_by_label("I agree that the clinic keeps this request").check()
    world.clock.now += 10
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**/appointment/sent**")
    check(page, "appointment sent", seeded, [], sweep)

    page.goto(f"{base}/newsletter")
    email = "x\"><img src=x onerror=\"__xss=1\">{{7*7}}@example.org"
    seeded.values["nl"] = email
    page.get_by_label("Email").fill(email)
    page.eval_on_selector("form[method=post]", "form => form.noValidate = true")
    world.clock.now += 10
    page.get_by_role("button").last.click()
    page.wait_for_load_state()
    check(page, "newsletter, refused", seeded, ["nl"], sweep)

    episode_id, _ = injection(world, days_ago=12)
    path = shown_link(world.signed_in("clinician"), episode_id, points(world, episode_id)["2w"].id)
    seeded.ids["commented"] = episode_id
    page.goto(f"{base}{path}")
    page.locator("input[name=nrs][value='6']").check()
    page.locator("input[name=pgic][value='5']").check()
    page.locator("textarea[name=comment]").fill(seeded.put("qc", long))
    page.get_by_role("button").last.click()
    page.wait_for_load_state()
    check(page, "questionnaire answered", seeded, [], sweep)
    page.context.close()


def fill_break_glass(browser: Browser, base: str, seeded: Seeded, sweep: Sweep) -> None:
    """South's clinician asks for north's patient: refused once (the reason echoed), then in."""
    page = new_page(browser, sweep)
    sign_in(page, base, "south_clinician")
    page.goto(f"{base}/break-glass")
    page.get_by_label("Patient number").fill("not a number")
    page.get_by_label("Reason").fill(seeded.put("bg", long))
    page.get_by_role("button", name="Open emergency access").click()
    check(page, "break-glass form, refused", seeded, ["bg"], sweep)
    page.get_by_label("Patient number").fill(str(seeded.ids["patient"]))
    page.get_by_role("button", name="Open emergency access").click()
    page.wait_for_load_state()
    check(page, "break-glass patient page", seeded, ["gn", "fn"], sweep)
    page.context.close()


def sent_name(name: str) -> str:
    """A file name as a browser sends it: multipart form data writes `"` as %22."""
    return name.replace('"', "%22")


def fill_fhir_import(browser: Browser, base: str, seeded: Seeded, sweep: Sweep) -> None:
    """The file's name and the patient in it come from another system, through the browser."""
    page = new_page(browser, sweep)
    sign_in(page, base, "clinician")
    page.goto(f"{base}/imports/fhir")
    wrong = seeded.put("fx", file_name)
    page.get_by_label("Files").set_input_files(
        [{"name": wrong, "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}])
    page.get_by_role("button", name="Import").click()
    seeded.values["fx"] = sent_name(wrong)
    check(page, "import refused", seeded, ["fx"], sweep)
    patient = {"resourceType": "Patient", "id": "x1", "gender": "female",
               "birthDate": "1966-05-06", "identifier": [{"value": "FX-1"}],
               "name": [{"family": seeded.put("if"), "given": [seeded.put("ig")]}]}
    lines = [json.dumps(patient), json.dumps({"resourceType": "Basic", "id": "b1"})]
    named = seeded.put("fi", file_name).removesuffix(".pdf") + ".ndjson"
    seeded.values["fi"] = sent_name(named)
    page.get_by_label("Files").set_input_files(
        [{"name": named, "mimeType": "application/x-ndjson",
          "buffer": "\n".join(lines).encode()}])
    page.get_by_role("button", name="Import").click()
    check(page, "import summary", seeded, ["fi"], sweep)
    page.goto(f"{base}/patients?q=" + quote("[ig]"))
    check(page, "imported patient found", seeded, ["ig", "if"], sweep)
    page.get_by_role("link", name=re.compile(r"\[if\]")).first.click()
    page.wait_for_load_state()
    check(page, "imported patient page", seeded, ["ig", "if"], sweep)
    page.context.close()


@pytest.fixture(scope="module")
def filled(browser: Browser, base: str, world: World, seeded: Seeded, sweep: Sweep) -> Seeded:
    """What people type in the browser, each answer checked as it comes; the pages below
    show what was stored."""
    fill_public_forms(browser, base, world, seeded, sweep)
    fill_break_glass(browser, base, seeded, sweep)
    fill_fhir_import(browser, base, seeded, sweep)
    return seeded


def test_the_forms_filled_in_the_browser_answer_with_the_payloads_as_text(
        filled: Seeded, sweep: Sweep) -> None:
    assert set(sweep.seen) >= {
        "appointment form, refused", "appointment sent", "newsletter, refused",
        "questionnaire answered", "break-glass form, refused", "break-glass patient page",
        "import refused", "import summary", "imported patient page"}, sweep.seen


def clinic_pages(seeded: Seeded, world: World) -> list[tuple[str, str, list[str]]]:
    """(page, path, tags it must show) for a clinician of north."""
    patient, episode, signed = (seeded.ids[k] for k in ("patient", "episode", "signed"))
    names = ["gn", "fn"]
    return [
        ("patient list", "/patients", names),
        ("patient search", "/patients?q=" + "%5Bgn%5D", names),
        ("patient search echo", "/patients?q=" + quote(seeded.put("sq")), ["sq"]),
        ("patient page", f"/patients/{patient}", [*names, "id", "ad", "co", "cr", "ml", "al"]),
        ("recent patients", "/recent", names),  # after the patient page opened it
        ("medication list form", f"/patients/{patient}/medication-list", ["ml", "al"]),
        ("patient edit", f"/patients/{patient}/edit", [*names, "id", "ad"]),
        ("documents", f"/patients/{patient}/documents", ["dt", "df"]),
        ("merged patient page", f"/patients/{seeded.ids['merged']}", ["mg", "gn", "fn"]),
        ("episode page", f"/episodes/{episode}", [*names, "co", "nt", "vr", "un"]),
        ("visit note", f"/episodes/{episode}/note", [*names, "un", "dd"]),
        ("signed assessment", f"/episodes/{episode}/signed/{signed}", [*names, "un", "dd"]),
        ("commented episode", f"/episodes/{seeded.ids['commented']}", ["qc"]),
        ("worklist", "/worklist", ["qc"]),
        ("inbox", "/inbox", ["ag", "af"]),
        ("CDS Hooks overrides", "/cds-overrides", ["od", "oc"]),
    ]


def test_every_clinic_page_shows_the_payloads_as_text(
        browser: Browser, base: str, world: World, filled: Seeded, sweep: Sweep,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    seeded = filled
    page = new_page(browser, sweep)
    sign_in(page, base, "clinician")
    for name, path, tags in clinic_pages(seeded, world):
        assert page.goto(f"{base}{path}").status == 200, (name, path)
        check(page, name, seeded, tags, sweep)
    page.goto(f"{base}/inbox")
    page.get_by_role("link", name=re.compile(r"\[af\]")).first.click()  # the request
    page.wait_for_load_state()
    check(page, "inbox request", seeded, ["ag", "af", "at", "am"], sweep)
    page.goto(f"{base}/episodes/{seeded.ids['episode']}/note")  # printed as the clinic prints it
    printed = "".join(raw_text(page.pdf(), tmp_path_factory).split())
    for tag in ("gn", "fn", "un", "dd"):
        assert "".join(seeded.values[tag].split()) in printed, ("visit note printed", tag)
        sweep.checked.append(("visit note printed", tag))
    page.context.close()


def test_the_admin_pages_show_the_payloads_as_text(
        browser: Browser, base: str, world: World, filled: Seeded, sweep: Sweep) -> None:
    seeded = filled
    page = new_page(browser, sweep)
    sign_in(page, base, "admin", world.one_time_code("admin"))
    for name, path, tags in [("admin users", "/admin/users", ["un", "uc"]),
                             ("admin user", f"/admin/users/{world.ids['clinician']}",
                              ["un", "uc"]),
                             ("admin merges", "/admin/merges", ["mr", "ur"])]:
        assert page.goto(f"{base}{path}").status == 200, (name, path)
        check(page, name, seeded, tags, sweep)
    page.context.close()


def raw_text(content: bytes, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The PDF's text in reading order (`-layout` interleaves a table's wrapped cells)."""
    path = tmp_path_factory.mktemp("pdf") / "printed.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_pdfs_print_the_payloads_as_text(world: World, seeded: Seeded, sweep: Sweep,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    client = world.signed_in("clinician")
    episode, signed = seeded.ids["episode"], seeded.ids["signed"]
    flat = {tag: "".join(value.split()) for tag, value in seeded.values.items()}
    for name, path, tags in [
            ("episode report pdf", f"/episodes/{episode}/report.pdf",
             ["gn", "fn", "id", "co", "vr"]),
            ("signed assessment pdf", f"/episodes/{episode}/signed/{signed}/assessment.pdf",
             ["gn", "fn", "un", "dd"])]:
        answer = client.get(path)
        assert answer.status_code == 200, (name, answer.text[:300])
        text = "".join(raw_text(answer.content, tmp_path_factory).split())  # lines wrap
        for tag in tags:
            assert flat[tag] in text, (name, tag, text)
            sweep.checked.append((name, tag))
        assert "]49" not in text, name


def test_the_counts_are_reported(filled: Seeded, sweep: Sweep) -> None:
    seeded = filled
    fields = len(seeded.values)
    report_counts("xss payloads", {"fields": fields, "pages": len(sweep.seen),
                                   "field_page_checks": len(sweep.checked)})
    unshown = set(seeded.values) - {tag for _, tag in sweep.checked}
    assert not unshown, f"payloads no page was checked for: {sorted(unshown)}"
    assert fields >= 32 and len(sweep.seen) >= 30 and len(sweep.checked) >= 83, (
        fields, len(sweep.seen), len(sweep.checked))
    assert not sweep.dialogs


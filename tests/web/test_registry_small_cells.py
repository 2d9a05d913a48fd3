"""Small cells stay hidden for researchers everywhere on the registry: a walk through every
filter combination on a small cohort finds no count under 5 in the page's text, its tables,
its trial comparisons or its charts (legends read from the SVGs), nor in the PDF's text; a
combination that leaves too few says so instead of showing numbers."""

from __future__ import annotations

import base64
import itertools
import re
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from sijcare.analytics.cohort import store_cohort
from sijcare.analytics.suppression import SMALL_CELL
from sijcare.analytics.view import stage_choices
from sijcare.store.models import Clinic, Membership, ProcedureRecord
from sijcare.store.synthetic import SYNTHETIC_CLINIC
from tests.web.conftest import World, build_world

COUNTS = [  # (pattern, which groups are counts, whether the last is a total)
    (re.compile(r"\((\d+)/(\d+);"), True),  # a share: responders/judged
    (re.compile(r"\((\d+) of (\d+)"), True),  # a trial comparison
    (re.compile(r"\bn=(\d+)"), False),  # a mean, a curve's legend
    (re.compile(r"Only (\d+) clinic patients"), False),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("small-cells"))
    with built.sessions() as db:
        store_cohort(db, 24, seed=4)
        db.commit()
    yield built
    built.engine.dispose()


class Tables(HTMLParser):
    """The page's tables as rows of cell texts, each under its caption (or first header)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.tables:
            self.tables[-1][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def small_counts(text: str) -> list[str]:
    """Every count under 5 the text shows, and every complement (total - count) under 5."""
    found = []
    for pattern, with_total in COUNTS:
        for match in pattern.finditer(text):
            numbers = [int(n) for n in match.groups()]
            if with_total:
                numbers.append(numbers[1] - numbers[0])
            found += [match.group(0) for n in numbers if n < SMALL_CELL]
    return found


def small_cells(page: str) -> list[str]:
    """Counts under 5 in the page's table columns that hold counts, and figures shown
    beside a count that was hidden."""
    parser = Tables()
    parser.feed(page)
    found = []
    for table in parser.tables:
        header, *rows = table
        for column in ("Due", "Procedures followed", "Relief lost"):
            if column in header:
                at = header.index(column)
                found += [f"{column}: {row[at]}" for row in rows
                          if row[at].isdigit() and int(row[at]) < SMALL_CELL]
        if "Median months (95% CI)" in header:  # a hidden curve shows no median either
            found += [f"median {row[3]}" for row in rows
                      if not row[1].isdigit() and re.search(r"\d", row[3].replace("<5", ""))]
    return found


def legends(page: str) -> str:
    """The text of every chart (matplotlib keeps each label as a comment in the SVG)."""
    charts = [base64.b64decode(uri).decode() for uri in
              re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]
    return " ".join(" ".join(re.findall(r"<!-- (.*?) -->", svg)) for svg in charts)


def combinations(world: World) -> list[dict[str, str]]:
    """Every combination of the filters' values that select different procedures: each side,
    each stage someone was treated at (and one nobody was), each clinician who treated, with
    and without a start date halfway through the cohort's procedures."""
    with world.sessions() as db:
        treated = set(db.execute(select(ProcedureRecord.stage_at_treatment,
                                        ProcedureRecord.recorded_by)).all())
        days = sorted(db.scalars(select(ProcedureRecord.date)))
    stages = sorted({stage for stage, _ in treated})
    unused = next(stage for stage, _ in stage_choices() if stage not in stages)
    clinicians = sorted({str(by) for _, by in treated})
    dates = [{}, {"from": days[len(days) // 2].isoformat()}]
    return [{"side": side, "stage": stage, "clinician": clinician, **when}
            for side, stage, clinician, when in itertools.product(
                ["", "left", "right", "bilateral"], ["", *stages, unused], ["", *clinicians],
                dates)]


def test_no_count_under_5_on_any_filtered_page(world: World) -> None:
    researcher = world.signed_in("researcher")
    shown, too_few = 0, 0
    for query in combinations(world):
        answer = researcher.get("/registry", params=query)
        assert answer.status_code == 200, query
        page = answer.text
        problems = small_counts(page) + small_cells(page) + small_counts(legends(page))
        assert problems == [], (query, problems)
        shown += "Durability of relief" in page
        too_few += "Too few to show" in page
    assert shown and too_few  # the walk met both figures and cohorts too small for any
    with world.sessions() as db:  # suppression is for researchers: a clinic sees its own
        clinic = db.scalar(select(Clinic).where(Clinic.name == SYNTHETIC_CLINIC))
        db.add(Membership(user_id=world.ids["clinician"], clinic_id=clinic.id))
        db.commit()
    mine = world.signed_in("clinician").get("/registry", params={"side": "left"}).text
    assert small_counts(mine) + small_counts(legends(mine)) != []
    assert "Too few to show" not in mine


def pdf_text(content: bytes, directory: Path) -> str:
    path = directory / "registry.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize(("query", "says"), [
    ({}, "Durability of relief"), ({"side": "left"}, "Too few to show")])
def test_no_count_under_5_in_the_pdf(world: World, query: dict[str, str], says: str,
                                     tmp_path: Path) -> None:
    """The PDF is drawn from the same view as the page: one with figures, one with too few."""
    answer = world.signed_in("researcher").get("/registry/report.pdf", params=query)
    assert answer.status_code == 200
    text = " ".join(pdf_text(answer.content, tmp_path).split())
    assert says in text and small_counts(text) == []

"""Handouts: one PDF per procedure with the clinic's name and phone, checked as text and
saved as page images in test-artifacts/ for a person to look at."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sijcare.knowledge.content import load_pages

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PROCEDURES = sorted(slug for slug, page in load_pages().items() if page.handout)
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")


def test_every_procedure_has_a_handout() -> None:
    assert set(PROCEDURES) == {"steroid-injection", "prolotherapy", "prp", "rfa", "fusion"}


@pytest.mark.skipif(not POPPLER, reason="!!! poppler-utils MISSING: handouts NOT checked "
                                        "(apt-get install poppler-utils) !!!")
@pytest.mark.parametrize("slug", PROCEDURES)
def test_the_handout_prints_the_clinic_and_when_to_call(world_client: TestClient, slug: str,
                                                        tmp_path: Path) -> None:
    answer = world_client.get(f"/learn/{slug}/handout.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / f"{slug}.pdf"
    pdf.write_bytes(answer.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for wanted in ("North Clinic", "555 0100", "When to call the clinic", "Recovery and activity",
                   "What happens", "How strong is the evidence?", load_pages()[slug].title):
        assert wanted in text, (slug, wanted)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(ARTIFACTS / f"handout-{slug}")], check=True)
    assert (ARTIFACTS / f"handout-{slug}.png").stat().st_size > 10_000


def test_pages_without_a_handout_answer_404(world_client: TestClient) -> None:
    assert world_client.get("/learn/faq/handout.pdf").status_code == 404
    assert world_client.get("/learn/nothing/handout.pdf").status_code == 404

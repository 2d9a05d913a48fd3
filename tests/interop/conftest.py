"""One export of the demo clinic, shared by every validation layer: the eight demo patients,
one episode signed (CarePlan, ServiceRequest, DocumentReference, Provenance), one record
entered in error and one episode closed, exported as Bulk Data NDJSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sijcare.interop.fhir.export import bulk_export
from sijcare.reports.pdf import signed_report
from sijcare.store import (
    close_episode,
    load_demo,
    make_engine,
    sign_assessment,
    upgrade,
    void_record,
)
from sijcare.store.models import PromRecord
from sijcare.web.assessing import assess_episode

TODAY = dt.date(2026, 11, 1)
FIXTURES = Path(__file__).parent / "fixtures"


def _pdf(signed, patient, signer):
    return signed_report(signed, patient, signer).pdf


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("fhir")
    engine = make_engine(f"sqlite:///{directory / 'demo.db'}")
    upgrade(engine)
    with Session(engine) as session:
        patients = load_demo(session, today=TODAY)
        session.flush()
        signed = patients[4].episodes[0]
        author = signed.created_by
        sign_assessment(session, signed.id, assess_episode(session, signed.id, "medicare",
                                                           TODAY), author)
        prom = session.query(PromRecord).filter_by(episode_id=signed.id).first()
        void_record(session, signed.id, "prom", prom.id, author, "typed into the wrong patient",
                    TODAY)
        close_episode(session, patients[7].episodes[0].id, TODAY, author)
        session.commit()
        bulk_export(session, directory / "out", pdf=_pdf)
    engine.dispose()
    yield directory / "out"


@pytest.fixture(scope="session")
def resources(export_dir: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(export_dir.glob("*.ndjson"))
            for line in path.read_text(encoding="utf-8").splitlines()]

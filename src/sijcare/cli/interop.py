"""`sijcare export fhir`: a patient or an episode as a FHIR Bundle, or everything as NDJSON.

Store and FHIR imports live inside the command, so `sijcare assess` stays quick.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from sijcare.cli.base import fail
from sijcare.cli.database import StoreUrl, database, shown
from sijcare.cli.registry import export_app

DEFAULT_BASE = "http://127.0.0.1:8000/fhir"  # where `sijcare serve` answers by default
VIA = "sijcare export fhir"


def _base() -> str:
    public = os.environ.get("SIJCARE_PUBLIC_URL", "").strip().rstrip("/")
    return f"{public}/fhir" if public else DEFAULT_BASE


@export_app.command("fhir")
def export_fhir_command(
    episode: Annotated[int | None, typer.Option(
        "--episode", min=1, max=2**31 - 1, help="Export one episode (a Bundle).")] = None,
    patient: Annotated[int | None, typer.Option(
        "--patient", min=1, max=2**31 - 1,
        help="Export one patient with all their episodes (a Bundle).")] = None,
    everything: Annotated[bool, typer.Option(
        "--all", help="Export everything as NDJSON, one file per resource type (needs -o).")
    ] = False,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="File for a Bundle (default: standard output); the directory "
                            "for --all.")] = None,
    base: Annotated[str | None, typer.Option(
        help="The FHIR base URL the Bundle's fullUrls start with; default SIJCARE_PUBLIC_URL "
             f"+ /fhir, else {DEFAULT_BASE}.")] = None,
    url: StoreUrl = None,
) -> None:
    """FHIR R4 (US Core 6.1): a Bundle of one patient or episode, or Bulk Data NDJSON."""
    if sum((episode is not None, patient is not None, everything)) != 1:
        fail("name exactly one of --episode ID, --patient ID or --all")
    if everything and out is None:
        fail("--all writes one file per resource type: name the directory with -o DIR")
    if everything and out.exists() and not out.is_dir():
        fail(f"-o: {out} is a file; --all needs a directory")
    if not everything and out is not None and out.is_dir():
        fail(f"-o: {out} is a directory; a Bundle is written to a file")
    with database(url) as target:
        if everything:
            _export_all(target, out)
        else:
            _export_bundle(target, episode, patient, out, base or _base())


def _pdf(signed, patient, signer: str) -> bytes:
    from sijcare.reports.pdf import signed_report

    return signed_report(signed, patient, signer).pdf


def _export_bundle(target: str, episode: int | None, patient: int | None, out: Path | None,
                   base: str) -> None:
    from sqlalchemy.orm import Session

    from sijcare.interop.fhir.check import InvalidResource, checked
    from sijcare.interop.fhir.export import bundle, episode_patient, patient_resources
    from sijcare.store import NotFound, make_engine, record_event

    engine = make_engine(target)
    try:
        with Session(engine) as session:
            try:
                owner = (episode_patient(session, episode) if episode is not None
                         else None)
                patient_id = owner.id if owner else patient
                resources = patient_resources(session, patient_id, _pdf, episode)
                document = bundle([checked(r) for r in resources], base)
            except (NotFound, InvalidResource) as error:
                fail(str(error))
            kind, object_id = ("episode", episode) if episode is not None else ("patient",
                                                                               patient)
            clinic = resources[1]["managingOrganization"]["reference"]
            record_event(session, None, "export", kind, object_id, None, {
                "via": VIA, "format": "fhir-bundle", "organization": clinic,
                "resources": len(resources),
                "file": str(out.resolve()) if out else "standard output"})
            session.commit()
    finally:
        engine.dispose()
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if out is None:
        sys.stdout.write(text + "\n")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    typer.echo(f"wrote {len(resources)} resources of {kind} {object_id} to {out}")


def _export_all(target: str, out: Path) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from sqlalchemy.orm import Session

    from sijcare.interop.fhir.export import bulk_export, episode_count
    from sijcare.store import make_engine, record_event

    engine = make_engine(target)
    columns = ("[progress.description]{task.description}", BarColumn(),
               MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Session(engine) as session, Progress(*columns, transient=True) as progress:
            task = progress.add_task("episodes", total=episode_count(session))
            counts = bulk_export(session, out, pdf=_pdf,
                                 advance=lambda n: progress.advance(task, n))
            record_event(session, None, "export", "fhir_bulk", None, None, {
                "via": VIA, "format": "fhir-ndjson", "directory": str(out.resolve()),
                "resources": counts})
            session.commit()
    finally:
        engine.dispose()
    listed = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    typer.echo(f"exported {listed} from {shown(target)} to {out}")

"""`sijcare import fhir FILE|DIR`: a hospital's FHIR records into a clinic, each imported fact
marked unreviewed until a clinician accepts or rejects it.

Store and FHIR imports live inside the command, so `sijcare assess` stays quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sijcare.cli.base import app, fail
from sijcare.cli.database import StoreUrl, database, shown

import_app = typer.Typer(help="Imports into the clinic's records.", no_args_is_help=True)
app.add_typer(import_app, name="import")
VIA = "sijcare import fhir"


def _pairs(values: list[str]) -> dict[str, int]:
    found = {}
    for value in values:
        source, _, patient = value.rpartition("=")
        if not source or not patient.isdigit():
            fail(f"--same: '{value}' is not SOURCE=PATIENT_ID")
        found[source] = int(patient)
    return found


@import_app.command("fhir")
def import_fhir_command(
    path: Annotated[Path, typer.Argument(help="A Bundle (.json), an NDJSON file, or a "
                                              "directory of them (Bulk Data export).")],
    clinic: Annotated[int, typer.Option("--clinic", min=1, max=2**31 - 1,
                                        help="The clinic the patients are imported into.")],
    user: Annotated[str, typer.Option("--user", help="The clinician importing (username): "
                                                     "recorded as who entered the records.")],
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write every skipped or rejected resource, with why, as CSV.")] = None,
    same: Annotated[list[str] | None, typer.Option(
        "--same", help="SOURCE=PATIENT_ID: a patient to confirm is that patient.")] = None,
    new: Annotated[list[str] | None, typer.Option(
        "--new", help="SOURCE: a patient to confirm is a new patient.")] = None,
    url: StoreUrl = None,
) -> None:
    """FHIR R4: transaction or collection Bundles, or NDJSON; prints what was imported."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress
    from sqlalchemy.orm import Session

    from sijcare.interop.fhir.importing import files_in, import_fhir
    from sijcare.interop.fhir.reading import BadFile
    from sijcare.store import make_engine, record_event
    from sijcare.store.errors import NotFound
    from sijcare.store.users import get_user_by_username

    same_as = _pairs(same or [])
    with database(url) as target:
        engine = make_engine(target)
        try:
            with Session(engine) as session:
                actor = get_user_by_username(session, user)
                if actor is None or not actor.active:
                    fail(f"--user: no active user '{user}'")
                actor_id = actor.id
                try:
                    files = files_in(path)
                    if not files:
                        fail(f"{path}: holds no .json or .ndjson files")
                    columns = ("[progress.description]{task.description}", BarColumn(),
                               MofNCompleteColumn())
                    with Progress(*columns, transient=True) as progress:
                        task = progress.add_task("patients", total=None)
                        done = import_fhir(session, files, clinic, actor_id, same_as=same_as,
                                           as_new=set(new or []),
                                           advance=lambda n: progress.advance(task, n))
                except (BadFile, NotFound) as error:
                    fail(str(error))
                record_event(session, actor_id, "import", "fhir", None, clinic, {
                    "via": VIA, "files": [str(f.resolve()) for f in files],
                    "patients": len(done.patients), "records": done.created})
                session.commit()
        finally:
            engine.dispose()
    if report is not None:
        report.write_text(done.csv(), encoding="utf-8")
    typer.echo(f"imported from {path} into {shown(target)}: {done.summary()}")
    for patient in done.patients:
        if patient.status in ("needs_confirmation", "rejected"):
            typer.echo(f"{patient.status}: {patient.source}: {patient.reason}")

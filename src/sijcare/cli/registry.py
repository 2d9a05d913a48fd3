"""Registry commands: fill the database with a synthetic cohort, export it for research.

Store and analytics imports live inside the commands, so `sijcare assess` stays quick.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from sijcare.cli.base import app, fail
from sijcare.cli.database import StoreUrl, database, shown

export_app = typer.Typer(help="Exports of the clinic's data.", no_args_is_help=True)
app.add_typer(export_app, name="export")

EXPORT_KEY = "export_key"


@app.command("demo-data")
def demo_data_command(
    patients: Annotated[int, typer.Option("--patients", min=1, max=2_000_000,
                                          help="How many synthetic patients to add.")],
    seed: Annotated[int, typer.Option(help="The same seed gives the same patients.")] = 0,
    url: StoreUrl = None,
) -> None:
    """Add synthetic patients (marked synthetic) with procedures and follow-up questionnaires."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from sqlalchemy.orm import Session

    from sijcare.analytics.cohort import store_cohort
    from sijcare.store import make_engine, upgrade

    with database(url) as target:
        engine = make_engine(target)
        upgrade(engine)
        columns = ("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress, Session(engine) as session:
            task = progress.add_task("synthetic patients", total=patients)
            store_cohort(session, patients, seed=seed,
                         advance=lambda k: progress.advance(task, k))
            session.commit()
        engine.dispose()
    typer.echo(f"added {patients} synthetic patients (seed {seed}) to {shown(target)}")


@export_app.command("research")
def export_research_command(
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory to write the export into.",
                                      file_okay=False)],
    key_file: Annotated[Path | None, typer.Option(
        help="The secret key for ids and date shifts (64 hex digits); default a key kept in "
             "the data directory, created on first use. Never put it in the export.")] = None,
    url: StoreUrl = None,
) -> None:
    """De-identified research export: Parquet and CSV by clinic and year, a data dictionary."""
    from sijcare.analytics.export import export_key, export_research
    from sijcare.store import make_engine
    from sijcare.store.db import data_dir

    key_path = key_file or data_dir() / EXPORT_KEY
    if out.resolve() in (key_path.resolve(), *key_path.resolve().parents):
        fail(f"--out: {out} would hold the export key; choose a directory outside it")
    try:
        key = export_key(key_path)
    except ValueError as error:
        fail(f"--key-file: {error}")
    with database(url) as target:
        engine = make_engine(target)
        with engine.connect() as connection:
            counts = export_research(connection, out, key)
        engine.dispose()
    listed = ", ".join(f"{n} {name}" for name, n in counts.items())
    typer.echo(f"exported {listed} from {shown(target)} to {out} on {dt.date.today()}")

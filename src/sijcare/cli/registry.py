"""Registry commands: a synthetic cohort, the research export, and the printable reports.

Store and analytics imports live inside the commands, so `sijcare assess` stays quick.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer

from sijcare.cli.base import app, fail
from sijcare.cli.database import StoreUrl, audited, command_detail, database, shown

export_app = typer.Typer(help="Exports of the clinic's data.", no_args_is_help=True)
app.add_typer(export_app, name="export")


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
    import time

    from sijcare.analytics.export import default_key_path, export_key, export_research
    from sijcare.store import make_engine, record_export
    from sijcare.store.keyring import KeyRotationError, previous_from_file

    key_path = key_file or default_key_path()
    if out.resolve() in (key_path.resolve(), *key_path.resolve().parents):
        fail(f"--out: {out} would hold the export key; choose a directory outside it")
    try:
        key, previous = export_key(key_path), previous_from_file(key_path)
    except (ValueError, KeyRotationError) as error:
        fail(f"--key-file: {error}")
    linked = previous if previous is not None and previous.accepted(time.time()) else None
    with database(url) as target:
        engine = make_engine(target)
        with engine.connect() as connection:
            counts = export_research(connection, out, key, linked and bytes.fromhex(
                linked.secret.decode()))
        engine.dispose()
        audited(target, lambda session: record_export(
            session, None, "research_export", via="sijcare export research",
            detail=command_detail(directory=str(out.resolve()), rows=counts,
                                  linkage=linked is not None)))
    listed = ", ".join(f"{n} {name}" for name, n in counts.items())
    typer.echo(f"exported {listed} from {shown(target)} to {out} on {dt.date.today()}")
    if linked is not None:
        typer.echo(f"linkage.csv pairs the ids of the export key before its rotation with "
                   f"today's (until {linked.until_text})")
    elif previous is not None:
        typer.echo(f"no linkage.csv: the previous export key's grace ended "
                   f"{previous.until_text}")


report_app = typer.Typer(help="Printable reports (PDF, or HTML when the file ends in .html).",
                         no_args_is_help=True)
app.add_typer(report_app, name="report")

Out = Annotated[Path | None, typer.Option(
    "-o", "--out", help="File to write; .html writes HTML, anything else PDF.", dir_okay=False)]


def _write(report, out: Path) -> None:
    """Episode reports and packets name the patient, so the file is the owner's alone."""
    out.parent.mkdir(parents=True, exist_ok=True)
    body = report.html.encode() if out.suffix.lower() in (".html", ".htm") else report.pdf
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # also when an older, wider file is overwritten
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(body)
    typer.echo(f"wrote {report.title} to {out}")


def _episode_report(url: str | None, episode_id: int, out: Path, command: str, build) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from sijcare.store import NotFound, make_engine, record_export
    from sijcare.store.models import MAX_ROW_ID, Episode, Patient

    if not 1 <= episode_id <= MAX_ROW_ID:  # the database driver would fail on it
        fail(f"episode: no episode {episode_id}")
    with database(url) as target:
        engine = make_engine(target)
        with Session(engine) as session:
            try:
                report = build(session)
            except NotFound:
                fail(f"episode: no episode {episode_id}")
            except ValueError as error:
                fail(str(error))
            clinic = session.scalar(select(Patient.clinic_id).join(Episode).where(
                Episode.id == episode_id))
            record_export(session, None, "episode", episode_id, clinic, via=command,
                          detail=command_detail(title=report.title, file=str(out.resolve())))
            session.commit()
        engine.dispose()
    _write(report, out)


@report_app.command("episode")
def report_episode_command(
    episode_id: Annotated[int, typer.Argument(metavar="ID", help="The episode's id.")],
    out: Out = None, url: StoreUrl = None,
) -> None:
    """One episode: timeline, scores and chart, signed assessments and their signers."""
    from sijcare.reports.pdf import episode_report

    _episode_report(url, episode_id, out or Path(f"episode-{episode_id}.pdf"),
                    "sijcare report episode", lambda session: episode_report(session, episode_id))


@report_app.command("prior-auth")
def report_prior_auth_command(
    episode_id: Annotated[int, typer.Argument(metavar="EPISODE", help="The episode's id.")],
    option: Annotated[str, typer.Option(help="The option requested, e.g. sij_rfa.")],
    policy: Annotated[str, typer.Option(help="The payer's policy id.")] = "medicare",
    as_of: Annotated[dt.datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="Assess as of this day (default today).")] = None,
    out: Out = None, url: StoreUrl = None,
) -> None:
    """A prior-authorisation packet: criteria with status and documentation, codes, evidence."""
    from sijcare.reports.pdf import prior_auth_report

    day = as_of.date() if as_of else None
    _episode_report(url, episode_id, out or Path(f"prior-auth-{episode_id}-{option}.pdf"),
                    "sijcare report prior-auth",
                    lambda session: prior_auth_report(session, episode_id, option, policy, day))


@report_app.command("registry")
def report_registry_command(
    date_from: Annotated[dt.datetime | None, typer.Option(
        "--from", formats=["%Y-%m-%d"], help="Procedures on or after this day.")] = None,
    date_to: Annotated[dt.datetime | None, typer.Option(
        "--to", formats=["%Y-%m-%d"], help="Procedures on or before this day.")] = None,
    stage: Annotated[str | None, typer.Option(
        metavar="STAGE", help="Procedures decided at this pathway stage, e.g. diagnostic_block.",
    )] = None,
    out: Out = None, url: StoreUrl = None,
) -> None:
    """The outcomes registry: responders, durability, changes, beside the trials."""
    from sijcare.analytics.queries import Filters
    from sijcare.analytics.view import stage_choices
    from sijcare.reports.pdf import registry_report
    from sijcare.store import make_engine, record_export

    start, end = (d.date() if d else None for d in (date_from, date_to))
    if start and end and start > end:
        fail(f"--from: {start} is after --to {end}")
    stages = [known for known, _ in stage_choices()]
    if stage is not None and stage not in stages:
        fail(f"--stage: '{stage}' is not a stage; one of: {', '.join(stages)}")
    out = out or Path("registry-report.pdf")
    filters = Filters(date_from=start, date_to=end, stage=stage)
    with database(url) as target:
        engine = make_engine(target)
        with engine.connect() as connection:
            report = registry_report(connection, filters, suppress=False)
        engine.dispose()
        audited(target, lambda session: record_export(
            session, None, "registry", via="sijcare report registry",
            detail=command_detail(filters=filters.applied(), file=str(out.resolve()))))
    _write(report, out)

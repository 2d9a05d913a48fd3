"""Database commands: migrate, back up, restore, verify and checkpoint the audit chain.

Store imports live inside the commands, so `sijcare assess` starts without loading them.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sijcare.cli.base import app, fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sijcare.store.audit_key import AuditKey

db_app = typer.Typer(help="The clinic database: schema migrations and integrity.",
                     no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of reads, writes and sign-ins.",
                        no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

StoreUrl = Annotated[str | None, typer.Option(
    help="Database URL; default SIJCARE_DATABASE_URL or a SQLite file in the data directory.")]


def shown(url: str) -> str:
    """The URL without its password, fit for messages."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """The target URL; database trouble, or an unusable key, inside the block becomes one
    `error:` line."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from sijcare.store import BackupError, database_url
    from sijcare.store.audit_key import AuditKeyError
    from sijcare.store.keyring import KeyRotationError
    from sijcare.store.totp_secrets import TotpKeyError

    target = url or database_url()
    try:
        yield target
    except (BackupError, AuditKeyError, KeyRotationError, TotpKeyError) as error:
        fail(str(error))
    except (SQLAlchemyError, CommandError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        fail(f"{shown(target)}: {error.__class__.__name__}: {reason}")


def command_detail(**detail: Any) -> dict[str, Any]:
    """An audit entry's detail for a command: no user of the app runs it, so the entry names
    the account on the server that did (None where the system cannot say)."""
    try:
        user: str | None = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return {"os_user": user, **detail}


def audited(target: str, write: Callable[[Session], object]) -> None:
    """Append audit entries (`write` calls `record_event` or `record_export`) to the database
    at `target`, in a transaction of their own."""
    from sqlalchemy.orm import Session

    from sijcare.store import make_engine

    engine = make_engine(target)
    try:
        with Session(engine) as session, session.begin():
            write(session)
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade_command(url: StoreUrl = None) -> None:
    """Create the database, or migrate it to the current schema (safe to repeat)."""
    from sijcare.store import make_engine, upgrade
    from sijcare.store.db import current_revision

    with database(url) as target:
        engine = make_engine(target)
        upgrade(engine)
        revision = current_revision(engine)
        engine.dispose()
    typer.echo(f"database {shown(target)} is at schema revision {revision} (current)")


@db_app.command("check")
def db_check_command(url: StoreUrl = None) -> None:
    """The database's own integrity check (as after a crash): SQLite's integrity_check and
    foreign_key_check; on PostgreSQL every table read through and, with the amcheck extension
    (installed here when this role may), every index and table verified. Exit 1 on a problem;
    says plainly when amcheck was not available."""
    from sijcare.store import make_engine
    from sijcare.store.integrity import check_integrity

    with database(url) as target:
        engine = make_engine(target)
        try:
            report = check_integrity(engine)
        finally:
            engine.dispose()
    if not report.ok:
        typer.echo(f"database {shown(target)} is DAMAGED ({report.method}):", err=True)
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"database {shown(target)} is whole: {report.method}")
    if engine.dialect.name != "sqlite" and not report.amcheck:
        typer.echo("warning: indexes were not verified; install amcheck as a superuser "
                   "(CREATE EXTENSION amcheck) and grant its functions to this role", err=True)


@app.command("backup")
def backup_command(
    dest: Annotated[Path, typer.Argument(
        help="Backup file to write (one SQLite file); replaced if it exists.")],
    url: StoreUrl = None,
) -> None:
    """Copy the database, consistently and while it is in use, into one SQLite file."""
    from sijcare.store import backup, record_export

    with database(url) as target:
        written = backup(target, dest)
        audited(target, lambda session: record_export(
            session, None, "database", via="sijcare backup",
            detail=command_detail(file=str(written.resolve()))))
    typer.echo(f"backed up {shown(target)} to {written}")


@app.command("restore")
def restore_command(
    src: Annotated[Path, typer.Argument(help="Backup file written by `sijcare backup`.")],
    url: StoreUrl = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Replace a database that already holds data.")] = False,
) -> None:
    """Replace everything in the database, audit log included, with a backup."""
    from sijcare.store import record_event, restore
    from sijcare.store.backup import holds_data

    with database(url) as target:
        if not yes and holds_data(target):
            fail(f"{shown(target)} holds data the restore would replace; "
                 "pass --yes to replace it")
        counts = restore(src, target)
        # written after the backup's own entries, so the restored chain records its restore
        audited(target, lambda session: record_event(
            session, None, "restore", "database", None, None, command_detail(
                via="sijcare restore", file=str(src.resolve()),
                patients=counts["patients"], audit_entries=counts["audit_events"])))
    typer.echo(f"restored {src} into {shown(target)}: {counts['patients']} patients, "
               f"{counts['audit_events']} audit entries")


def _audit_failure(target: str, problems: list[str]) -> None:
    typer.echo(f"audit chain BROKEN in {shown(target)}: entries were changed, removed "
               "or inserted", err=True)
    for problem in problems:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


def audit_key_or_fail() -> AuditKey:
    """The audit chain's key, or exit 2 saying why it cannot be had."""
    from sijcare.store.audit_key import AuditKeyError, audit_key

    try:
        return audit_key()
    except AuditKeyError as error:
        fail(str(error))


@audit_app.command("verify")
def audit_verify_command(
    url: StoreUrl = None,
    checkpoint: Annotated[Path | None, typer.Option(
        help="A file written by `sijcare audit checkpoint`: the log must still hold its "
             "entry unchanged.", dir_okay=False)] = None,
) -> None:
    """Recompute the audit chain and the signed assessments' seals; exit 1 if an entry was
    changed, removed or inserted, or a seal does not match."""
    from sqlalchemy.orm import Session

    from sijcare.store import make_engine, verify_chain
    from sijcare.store.checkpoint import CheckpointError, verify_with_checkpoint
    from sijcare.store.signing import seals_match_audit

    key = audit_key_or_fail()
    with database(url) as target:
        engine = make_engine(target)
        with Session(engine) as session:
            try:
                report, problems = (verify_with_checkpoint(session, checkpoint, key)
                                    if checkpoint else (verify_chain(session, key), []))
            except CheckpointError as error:
                fail(f"--checkpoint: {error}")
            problems = [*report.problems, *problems, *seals_match_audit(session)]
        engine.dispose()
    if problems:
        _audit_failure(target, problems)
    typer.echo(f"audit chain intact: {report.entries} entries, head {report.head_hash}"
               + (f" ({report.unkeyed} from before the chain was keyed)"
                  if report.unkeyed else ""))
    if checkpoint:
        typer.echo(f"the log still holds the entry checkpointed in {checkpoint}")
    typer.echo(key.describe())


@audit_app.command("checkpoint")
def audit_checkpoint_command(
    out: Annotated[Path, typer.Argument(
        help="File to write the signed head into; keep it off this machine.", dir_okay=False)],
    url: StoreUrl = None,
) -> None:
    """Verify the chain, append a 'checkpoint' entry, and write the new head, signed with the
    audit key, to a file outside the database (`audit verify --checkpoint` reads it)."""
    from sqlalchemy.orm import Session

    from sijcare.store import make_engine, record_event, verify_chain
    from sijcare.store.audit import AuditReport
    from sijcare.store.checkpoint import write_checkpoint

    key = audit_key_or_fail()
    with database(url) as target:
        engine = make_engine(target)
        with Session(engine) as session, session.begin():
            report = verify_chain(session, key)
            if not report.ok:
                _audit_failure(target, report.problems)
            event = record_event(session, None, "checkpoint", "audit_chain", None, None,
                                 command_detail(via="sijcare audit checkpoint",
                                                file=str(out.resolve())))
            head = AuditReport(report.entries + 1, event.seq, event.hash, report.unkeyed)
        engine.dispose()
    write_checkpoint(head, out, key)
    typer.echo(f"checkpoint of entry {head.head_seq} ({head.head_hash}) written to {out}")
    typer.echo(key.describe())

"""The `sijcare` command: thin functions that load input, call the core and print.

Bad input exits with status 2 and one line per problem on stderr, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from sijcare import __version__
from sijcare.engine import assess
from sijcare.explain import find
from sijcare.instruments.odi import score_odi
from sijcare.knowledge import load_knowledge, short_citation
from sijcare.model import CaseError, load_case
from sijcare.reports.text import render_plain, render_rich

app = typer.Typer(help="Decision support for sacroiliac-joint pain clinics.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
knowledge_app = typer.Typer(help="Browse the cited knowledge base.", no_args_is_help=False,
                            invoke_without_command=True)
score_app = typer.Typer(help="Score questionnaires.", no_args_is_help=True)
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(score_app, name="score")


class Format(StrEnum):
    json = "json"
    text = "text"


def fail(*problems: str) -> NoReturn:
    """Report bad input the same way everywhere: `error: ...` lines, exit status 2."""
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(2)


def _policies() -> list[str]:
    return sorted(load_knowledge().policies)


def _out(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False
         ) -> None:
    if version:
        typer.echo(f"sijcare {__version__} (knowledge {load_knowledge().version})")
        raise typer.Exit()


@app.command("assess")
def assess_command(
    case: Annotated[str, typer.Argument(help="Case file (.yaml or .json), or - for stdin.")],
    policy: Annotated[str, typer.Option(help="Policy profile: medicare or clinic.")] = "medicare",
    prior: Annotated[float | None, typer.Option(
        help="Pre-test probability of SI-joint pain (0-1, exclusive); default: the policy's.")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="json or text.")] = Format.json,
) -> None:
    """Assess one case: stage, likelihood, block, eligibility, alerts and outcomes."""
    if policy not in _policies():
        fail(f"--policy: unknown policy '{policy}'; choose one of: {', '.join(_policies())}")
    if prior is not None and not 0 < prior < 1:
        fail(f"--prior: must be a probability strictly between 0 and 1, got {prior:g}")
    stdin_text = sys.stdin.read() if case == "-" else None
    try:
        loaded = load_case(case, stdin_text)
    except CaseError as error:
        fail(*error.problems)
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{case}: cannot read the file ({error.__class__.__name__})")
    assessment = assess(loaded, policy=policy, prior=prior)
    if output is Format.json:
        typer.echo(assessment.model_dump_json(indent=2))
    elif sys.stdout.isatty():
        render_rich(assessment, load_knowledge(), Console())
    else:
        typer.echo(render_plain(assessment, load_knowledge()), nl=False)


@score_app.command("odi")
def score_odi_command(
    answers: Annotated[list[str], typer.Argument(
        help="The 10 section answers, 0-5 each; '-' for an unanswered section.")],
) -> None:
    """Score an Oswestry Disability Index (v2.1a); prints JSON."""
    rule = load_knowledge().outcomes.odi
    if len(answers) != rule.sections:
        fail(f"answers: the ODI has {rule.sections} sections, got {len(answers)} answers")
    parsed: list[int | None] = []
    for i, raw in enumerate(answers, start=1):
        if raw == "-":
            parsed.append(None)
        elif raw.isdigit() and 0 <= int(raw) <= rule.max_per_section:
            parsed.append(int(raw))
        else:
            fail(f"answers[{i}]: '{raw}' is not 0-{rule.max_per_section} or '-'")
    result = score_odi(parsed, rule)
    _out({"instrument": "odi", "score": result.score, "band": result.band,
          "answered": result.answered, "sources": rule.sources})


@knowledge_app.callback()
def knowledge_overview(ctx: typer.Context) -> None:
    """Without a subcommand: what the knowledge base holds."""
    if ctx.invoked_subcommand:
        return
    kb = load_knowledge()
    typer.echo(f"knowledge {kb.version}")
    typer.echo(f"  tests:     {len(kb.examination.provocation_tests)} provocation tests, "
               f"{len(kb.examination.clusters)} cluster(s), Fortin finger test, Kurosawa score")
    typer.echo(f"  policies:  {', '.join(kb.policies)}")
    typer.echo(f"  evidence:  {len(kb.evidence.treatments)} treatments, "
               f"{sum(len(t.studies) for t in kb.evidence.treatments)} studies")
    typer.echo(f"  sources:   {len(kb.sources)}")
    typer.echo("Use: sijcare knowledge tests | policies [ID] | sources [ID] | evidence [ID]")


@knowledge_app.command("tests")
def knowledge_tests() -> None:
    """Provocation tests with their accuracy, and the cluster rule."""
    kb = load_knowledge()
    for t in kb.examination.provocation_tests:
        accuracy = (f"Sn {t.sensitivity:.0%} Sp {t.specificity:.0%} LR+ {t.lr_positive:g} "
                    f"LR- {t.lr_negative:g}" if t.sensitivity is not None else "accuracy n/a")
        typer.echo(f"{t.id:15} {t.name}: {accuracy} [{', '.join(t.sources)}]\n"
                   f"{'':15} {t.how}")
    for c in kb.examination.clusters:
        typer.echo(f"{c.id}: {c.min_positive} of {len(c.tests)} positive; LR+ {c.lr_positive:g}, "
                   f"LR- {c.lr_negative:g} [{', '.join(c.sources)}]")
    typer.echo(f"{kb.examination.fortin_finger.id}: {kb.examination.fortin_finger.how}")
    k = kb.examination.kurosawa
    typer.echo(f"{k.id}: positive at {k.cutoff}+ of 9: "
               + "; ".join(f"{i.text} ({i.points})" for i in k.items))


@knowledge_app.command("policies")
def knowledge_policies(
    policy_id: Annotated[str | None, typer.Argument(help="Show one policy in full.")] = None,
) -> None:
    """List policies, or show one with every option and criterion."""
    kb = load_knowledge()
    if policy_id is None:
        for p in kb.policies.values():
            typer.echo(f"{p.id:10} {p.name} (block threshold {p.block_threshold:g}%)")
        return
    if policy_id not in kb.policies:
        fail(f"policy: unknown policy '{policy_id}'; choose one of: {', '.join(_policies())}")
    _out(kb.policies[policy_id].model_dump())


@knowledge_app.command("sources")
def knowledge_sources(
    source_id: Annotated[str | None, typer.Argument(help="Show one source in full.")] = None,
) -> None:
    """The bibliography, with each source's firmness."""
    kb = load_knowledge()
    if source_id is None:
        for s in kb.sources.values():
            typer.echo(f"{s.id:28} {short_citation(s):22} {s.firmness}")
        return
    if source_id not in kb.sources:
        fail(f"source: no source '{source_id}'; list them with: sijcare knowledge sources")
    _out(kb.sources[source_id].model_dump())


@knowledge_app.command("evidence")
def knowledge_evidence(
    treatment: Annotated[str | None, typer.Argument(help="Show one treatment's studies.")] = None,
) -> None:
    """The evidence table per treatment; advocacy claims are marked as such."""
    kb = load_knowledge()
    treatments = {t.id: t for t in kb.evidence.treatments}
    if treatment is None:
        for t in treatments.values():
            typer.echo(f"{t.id:18} {t.name}: {len(t.studies)} studies, "
                       f"{len(t.guideline_positions)} guideline positions")
        return
    if treatment not in treatments:
        fail(f"treatment: unknown '{treatment}'; choose one of: {', '.join(treatments)}")
    _out(treatments[treatment].model_dump())


@app.command("explain")
def explain_command(
    rule_id: Annotated[str, typer.Argument(help="A rule id as printed in reasons[].rule.")],
) -> None:
    """Explain a rule: what it says, its parameters and its sources."""
    kb = load_knowledge()
    rules = find(kb, rule_id)
    if not rules:
        fail(f"rule: no rule '{rule_id}'; rule ids appear in an assessment's reasons[].rule")
    for rule in rules:
        typer.echo(f"{rule.id} ({rule.kind})\n  {rule.text}")
        for key, value in rule.details.items():
            typer.echo(f"  {key}: {value}")
        for sid in rule.sources:
            s = kb.sources[sid]
            tag = "" if s.firmness == "verified" else f" ({s.firmness}: provisional)"
            typer.echo(f"  source [{sid}] {s.citation}{tag}")



# -- database: migrations, backups, audit ------------------------------------------------------
# Store imports live inside these commands too, for the same quick start.

db_app = typer.Typer(help="The clinic database: schema migrations.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of reads, writes and sign-ins.",
                        no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

StoreUrl = Annotated[str | None, typer.Option(
    help="Database URL; default SIJCARE_DATABASE_URL or a SQLite file in the data directory.")]


def _shown(url: str) -> str:
    """The URL without its password, fit for messages."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    """The target URL; database trouble inside the block becomes one `error:` line."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from sijcare.store import BackupError, database_url

    target = url or database_url()
    try:
        yield target
    except BackupError as error:
        fail(str(error))
    except (SQLAlchemyError, CommandError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        fail(f"{_shown(target)}: {error.__class__.__name__}: {reason}")


@db_app.command("upgrade")
def db_upgrade_command(url: StoreUrl = None) -> None:
    """Create the database, or migrate it to the current schema (safe to repeat)."""
    from sijcare.store import make_engine, upgrade
    from sijcare.store.db import current_revision

    with _database(url) as target:
        engine = make_engine(target)
        upgrade(engine)
        revision = current_revision(engine)
        engine.dispose()
    typer.echo(f"database {_shown(target)} is at schema revision {revision} (current)")


@app.command("backup")
def backup_command(
    dest: Annotated[Path, typer.Argument(
        help="Backup file to write (one SQLite file); replaced if it exists.")],
    url: StoreUrl = None,
) -> None:
    """Copy the database, consistently and while it is in use, into one SQLite file."""
    from sijcare.store import backup

    with _database(url) as target:
        written = backup(target, dest)
    typer.echo(f"backed up {_shown(target)} to {written}")


@app.command("restore")
def restore_command(
    src: Annotated[Path, typer.Argument(help="Backup file written by `sijcare backup`.")],
    url: StoreUrl = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Replace a database that already holds data.")] = False,
) -> None:
    """Replace everything in the database, audit log included, with a backup."""
    from sijcare.store import restore
    from sijcare.store.backup import holds_data

    with _database(url) as target:
        if not yes and holds_data(target):
            fail(f"{_shown(target)} holds data the restore would replace; "
                 "pass --yes to replace it")
        counts = restore(src, target)
    typer.echo(f"restored {src} into {_shown(target)}: {counts['patients']} patients, "
               f"{counts['audit_events']} audit entries")


@audit_app.command("verify")
def audit_verify_command(url: StoreUrl = None) -> None:
    """Recompute the audit chain; exit 1 if an entry was changed, removed or inserted."""
    from sqlalchemy.orm import Session

    from sijcare.store import make_engine, verify_chain

    with _database(url) as target:
        engine = make_engine(target)
        with Session(engine) as session:
            report = verify_chain(session)
        engine.dispose()
    if not report.ok:
        typer.echo(f"audit chain BROKEN in {_shown(target)}: entries were changed, removed "
                   "or inserted", err=True)
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {report.entries} entries, head {report.head_hash}")


# -- web app and accounts ------------------------------------------------------------------
# The web imports live inside these commands too, for the same quick start.

user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.command("serve")
def serve_command(
    demo: Annotated[bool, typer.Option(
        help="Load the synthetic demo patients (clearly marked) and a demo clinician.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on; keep 127.0.0.1 unless a "
                                           "TLS proxy sits in front.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    url: StoreUrl = None,
) -> None:
    """Start the web app: migrate the database, create the first sign-in, serve."""
    import uvicorn

    from sijcare.web import Settings, create_app
    from sijcare.web.serving import prepare

    with _database(url) as target:
        engine, created = prepare(target, demo)
    typer.echo(f"sijcare {__version__} at http://{host}:{port}/ (database {_shown(target)})")
    for username, role, password in created:
        typer.echo(f"  first sign-in, shown once: {username} / {password} ({role})")
    uvicorn.run(create_app(Settings.from_env(target), engine), host=host, port=port,
                log_level="info")


@user_app.command("add")
def user_add_command(
    username: Annotated[str, typer.Argument(help="Sign-in name: lower case, digits, . _ -")],
    role: Annotated[str, typer.Option(help="clinician, staff, researcher or admin.")],
    clinic: Annotated[list[str] | None, typer.Option(
        help="Clinic the user works in (repeat for several); created if new.")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
    url: StoreUrl = None,
) -> None:
    """Add a user; the password is prompted for (twice) unless --password-stdin."""
    from sijcare.store import RecordError, make_engine, session_factory, upgrade
    from sijcare.web.accounts import AccountError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _database(url) as target:
        engine = make_engine(target)
        upgrade(engine)
        with session_factory(engine)() as db:
            try:
                user, new_clinics = add_user(db, username, password, role, clinic or [])
            except AccountError as error:
                fail(str(error))
            except RecordError as error:
                fail(*(f"{path}: {message}" for path, message in error.problems))
            db.commit()
    for name in new_clinics:
        typer.echo(f"created clinic '{name}'")
    typer.echo(f"added {user.username} ({user.role})")


if __name__ == "__main__":  # pragma: no cover
    app(prog_name="sijcare")

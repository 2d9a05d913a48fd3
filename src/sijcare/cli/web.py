"""Web commands: serve the clinic app, manage user accounts.

Web imports live inside the commands, so `sijcare assess` starts without loading them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated

import typer

from sijcare import __version__
from sijcare.cli.base import app, fail
from sijcare.cli.database import StoreUrl, database, shown

user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def public_url_warning(environ: Mapping[str, str], serving: str) -> str | None:
    """Emails (questionnaire links, confirmations) link to SIJCARE_PUBLIC_URL: unset, they
    link to the address served (`serving`), which for 127.0.0.1 is the patient's own computer."""
    if environ.get("SIJCARE_PUBLIC_URL", "").strip():
        return None
    return ("warning: SIJCARE_PUBLIC_URL is not set, so links in emails to patients point to "
            f"{serving}; set it to the address patients reach the site at.")


@app.command("serve")
def serve_command(
    demo: Annotated[bool, typer.Option(
        help="Load the synthetic demo patients (clearly marked) and a demo clinician.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on; keep 127.0.0.1 unless a "
                                           "TLS proxy sits in front.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        help="Address(es) of the TLS proxy in front, comma-separated: only then are its "
             "X-Forwarded-For/-Proto headers believed. Off by default.")] = None,
    url: StoreUrl = None,
) -> None:
    """Start the web app: migrate the database, create the first sign-in, serve."""
    import uvicorn

    from sijcare.notify.worker import OutboxWorker
    from sijcare.store import session_factory
    from sijcare.store.audit import sealed_by_a_stranger
    from sijcare.store.audit_key import RETIRED_ENV, audit_key
    from sijcare.store.totp_secrets import totp_keys
    from sijcare.web import Settings, create_app
    from sijcare.web.serving import prepare

    with database(url) as target:
        try:
            settings = Settings.from_env(target)
            key = audit_key()
            totp_keys()
        except ValueError as error:  # a short secret, audit or TOTP key, a previous key without
            fail(str(error))         # its end, SIJCARE_SMTP_* settings, a bad number
        engine, created = prepare(target, demo, settings.pool)
        with session_factory(engine)() as db:
            if sealed_by_a_stranger(db, key):
                fail("the audit chain's head is sealed with an audit key this server does "
                     f"not hold ({key.describe()}). If the key was changed, list the previous "
                     f"one in {RETIRED_ENV}: entries written now would break the chain. "
                     "Otherwise the head was tampered with: run `sijcare audit verify`")
    serving = f"http://{host}:{port}"
    if not os.environ.get("SIJCARE_PUBLIC_URL", "").strip():  # links follow --host and --port
        settings = replace(settings, public_url=serving)
    typer.echo(f"sijcare {__version__} at {serving}/ (database {shown(target)})")
    typer.echo(f"  audit chain {key.describe()}")
    if warning := public_url_warning(os.environ, serving):
        typer.echo(warning, err=True)
    for username, role, password in created:
        typer.echo(f"  first sign-in, shown once: {username} / {password} ({role})")
    if demo:
        from sijcare.web.admin.accounts import demo_accounts

        with session_factory(engine)() as db:
            for username, role, state in demo_accounts(db):
                typer.echo(f"  demo account: {username} ({role}, {state})")
    # Client addresses (sign-in throttle, audit) come from the connection, never from headers
    # a client can forge; no access log, since URLs carry searches by patient name.
    proxied = {"forwarded_allow_ips": forwarded_allow_ips} if forwarded_allow_ips else {}
    web_app = create_app(settings, engine)
    OutboxWorker(web_app.state.sessions, settings.smtp).start()  # mail retries, every minute
    # Keep idle connections longer than a proxy or client keeps its own (load balancers close
    # theirs at 60 s): a server that closes first races a request already on its way, which
    # then sees its connection dropped without an answer (uvicorn's default is 5 s).
    uvicorn.run(web_app, host=host, port=port, log_level="info", timeout_keep_alive=65,
                access_log=False, proxy_headers=bool(forwarded_allow_ips), **proxied)


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
    from sijcare.web.admin.accounts import AccountError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with database(url) as target:
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

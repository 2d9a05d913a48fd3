"""Key rotation commands: a new session secret, export key or TOTP key, the old one still
accepted for a grace period (`store/keyring.py`); a new audit key, the old one retired to
verify what it keyed. Each rotation is audited."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sijcare.cli.base import app, fail
from sijcare.cli.database import (
    StoreUrl,
    audit_key_or_fail,
    audited,
    command_detail,
    database,
    shown,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

keys_app = typer.Typer(help="Rotate the session secret, the research export key, the TOTP "
                            "key and the audit key.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")

GraceDays = Annotated[int, typer.Option(
    help="Days the previous key is still accepted (1-365).")]


def _rotate(key_path: Path, grace_days: int, write_new, what: str, url: str | None,
            then: Callable[[Session], dict[str, Any]] | None = None) -> None:
    """Rotate the key file, then, in one audited transaction, `then` (its counts go in the
    audit entry)."""
    from sijcare.store import record_event
    from sijcare.store.keyring import KeyRotationError, rotate_key_file

    with database(url) as target:
        try:
            previous = rotate_key_file(key_path, grace_days, write_new, time.time())
        except KeyRotationError as error:
            fail(f"--grace-days: {error}" if "grace" in str(error) else str(error))

        def write(session: Session) -> None:
            done = then(session) if then is not None else {}
            record_event(session, None, "rotate", what, None, None, command_detail(
                via=f"sijcare keys rotate-{what.split('_')[0]}", file=str(key_path),
                previous_until=previous.until_text, **done))

        audited(target, write)
    typer.echo(f"new {what.replace('_', ' ')} in {key_path}; the previous one is accepted "
               f"until {previous.until_text}")


@keys_app.command("rotate-secret")
def rotate_secret_command(grace_days: GraceDays = 14, url: StoreUrl = None) -> None:
    """A new session secret in the data directory; sessions and links signed with the old
    one keep working for the grace period. Restart the server processes afterwards. (Set in
    SIJCARE_SECRET_KEY instead? Set the new one there, and the old one in
    SIJCARE_PREVIOUS_SECRET_KEY with SIJCARE_PREVIOUS_SECRET_KEY_UNTIL.)"""
    import os

    from sijcare.store.db import data_dir, private_directory
    from sijcare.store.key_files import write_new_key
    from sijcare.web.settings import SECRET_ENV, SECRET_FILE

    if os.environ.get(SECRET_ENV) is not None:
        fail(f"{SECRET_ENV} is set: rotate it there (the old key goes in "
             "SIJCARE_PREVIOUS_SECRET_KEY, its end in SIJCARE_PREVIOUS_SECRET_KEY_UNTIL)")
    key_path = private_directory(data_dir()) / SECRET_FILE
    if not key_path.exists():
        fail(f"{key_path}: no secret key yet (the server makes one when it first starts)")
    _rotate(key_path, grace_days, write_new_key, "secret_key", url)


@keys_app.command("rotate-export")
def rotate_export_command(
    grace_days: GraceDays = 90,
    key_file: Annotated[Path | None, typer.Option(
        help="The export key to rotate; default the one in the data directory.")] = None,
    url: StoreUrl = None,
) -> None:
    """A new research export key; while the previous one is in its grace period, each export
    also writes `linkage.csv`, pairing every patient's and episode's previous id with its
    new one, so studies can link exports made before the rotation."""
    from sijcare.analytics.export import default_key_path, write_export_key

    key_path = key_file or default_key_path()
    _rotate(key_path, grace_days, write_export_key, "export_key", url)


@keys_app.command("rotate-totp")
def rotate_totp_command(grace_days: GraceDays = 14, url: StoreUrl = None) -> None:
    """A new key for the TOTP secrets in the data directory; every stored secret is encrypted
    under it at once, and the old key still opens secrets for the grace period (servers
    running now read the new key file by themselves). (Set in SIJCARE_TOTP_KEY instead? Set
    the new one there, the old one in SIJCARE_PREVIOUS_TOTP_KEY with
    SIJCARE_PREVIOUS_TOTP_KEY_UNTIL, and restart: `serve` encrypts under the new key.)"""
    import os

    from sijcare.store.db import data_dir, private_directory
    from sijcare.store.key_files import write_new_key
    from sijcare.store.totp_secrets import TOTP_KEY_ENV, TOTP_KEY_FILE, encrypt_stored_secrets

    if os.environ.get(TOTP_KEY_ENV) is not None:
        fail(f"{TOTP_KEY_ENV} is set: rotate it there (the old key goes in "
             "SIJCARE_PREVIOUS_TOTP_KEY, its end in SIJCARE_PREVIOUS_TOTP_KEY_UNTIL); "
             "`sijcare db upgrade` or `serve` then encrypts every secret under the new key")
    key_path = private_directory(data_dir()) / TOTP_KEY_FILE
    if not key_path.exists():
        fail(f"{key_path}: no TOTP key yet (it is made with the first second factor)")

    def encrypt_again(session: Session) -> dict[str, Any]:
        done = encrypt_stored_secrets(session)
        if done.unreadable:
            typer.echo(f"{done.unreadable} second factor(s) open with no key held: an admin "
                       "must reset them", err=True)
        return {"reencrypted": done.from_previous + done.from_clear,
                "unreadable": done.unreadable}

    _rotate(key_path, grace_days, write_new_key, "totp_key", url, encrypt_again)


@keys_app.command("rotate-audit")
def rotate_audit_command(url: StoreUrl = None) -> None:
    """A new audit key. The chain must verify first; the old key is retired (kept in
    `audit_key.retired` beside the key file, to verify the entries it keyed) and a hand-over
    entry, hashed with the old key, passes the chain to the new one. Running servers take the
    new key at their next entry. (Set in SIJCARE_AUDIT_KEY instead? Set the new one there, add
    the old one to SIJCARE_RETIRED_AUDIT_KEYS, and run this command to write the hand-over.)"""
    import os

    from sqlalchemy.orm import Session

    from sijcare.store import make_engine, verify_chain
    from sijcare.store.audit import hand_over
    from sijcare.store.audit_key import AUDIT_KEY_ENV, RETIRED_ENV, retire_and_replace
    from sijcare.store.db import data_dir

    key = audit_key_or_fail()
    from_env = os.environ.get(AUDIT_KEY_ENV) is not None
    with database(url) as target:
        engine = make_engine(target)
        try:
            with Session(engine) as session:
                report = verify_chain(session, key)
            broken = [p for p in report.problems if "sealed with a retired" not in p]
            if broken:
                fail(f"the audit chain of {shown(target)} does not verify; a hand-over would "
                     "vouch for a tampered log:", *broken)
            if not from_env:
                old, key = retire_and_replace(data_dir())
            with Session(engine) as session, session.begin():
                entry = hand_over(session, command_detail(via="sijcare keys rotate-audit"))
                handed = None if entry is None else entry.seq
        finally:
            engine.dispose()
    if handed is None and from_env:
        fail(f"{AUDIT_KEY_ENV} is set and the chain is already keyed with it: to rotate, set "
             f"a new key there, add the old one to {RETIRED_ENV}, and run this again")
    if not from_env:
        typer.echo(f"new audit key {key.key_id} in {key.source}; the old key {old.key_id} is "
                   "retired beside it: keep copies of both files off this machine")
    if handed is not None:
        typer.echo(f"entry {handed} hands the chain over to key {key.key_id}")
    typer.echo("write a checkpoint now (`sijcare audit checkpoint FILE`) and keep it off this "
               "machine")

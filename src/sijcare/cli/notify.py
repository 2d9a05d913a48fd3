"""Mail commands: send what the outbox holds, send a newsletter issue.

Imports live inside the commands, so `sijcare assess` starts without loading them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sijcare.cli.base import app, fail
from sijcare.cli.database import StoreUrl, database

outbox_app = typer.Typer(help="Outgoing email (appointment confirmations, newsletter).",
                         no_args_is_help=True)
newsletter_app = typer.Typer(help="The patient newsletter (double opt-in).",
                             no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
app.add_typer(newsletter_app, name="newsletter")


def _settings(target: str):  # the web settings hold SMTP, the clinic and the signing key
    from sijcare.web.settings import SecretKeyError, Settings

    try:
        return Settings.from_env(target)
    except (SecretKeyError, ValueError) as error:
        fail(str(error))


@outbox_app.command("send")
def outbox_send_command(url: StoreUrl = None) -> None:
    """Send every message that is due now, with the SMTP settings from the environment."""
    from sijcare.notify import send_due
    from sijcare.store import make_engine, session_factory

    with database(url) as target:
        settings = _settings(target)
        delivery = send_due(session_factory(make_engine(target)), settings.smtp)
    typer.echo(f"sent {len(delivery.sent)}, waiting to retry {len(delivery.retrying)}, "
               f"failed {len(delivery.failed)}")


@newsletter_app.command("send")
def newsletter_send_command(
    text_file: Annotated[Path, typer.Argument(help="Plain-text body of the issue.")],
    subject: Annotated[str, typer.Option(help="Subject line.")],
    url: StoreUrl = None,
) -> None:
    """Queue an issue for every confirmed subscriber (each gets an unsubscribe link)."""
    from sijcare.notify.newsletter import queue_issue
    from sijcare.store import make_engine, session_factory

    try:
        text = text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{text_file}: {error}")
    if not text.strip() or not subject.strip():
        fail("give a subject and a non-empty text file")
    with database(url) as target:
        settings = _settings(target)
        with session_factory(make_engine(target))() as session, session.begin():
            queued = queue_issue(session, settings.secret_key, settings.public_url, subject,
                                 text)
    typer.echo(f"queued for {queued} confirmed subscriber(s); `sijcare outbox send` sends it")

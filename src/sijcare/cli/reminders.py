"""Follow-up reminders: `sijcare reminders send`, meant for cron (see the README for why)."""

from __future__ import annotations

import datetime as dt

import typer

from sijcare.cli.base import app, fail
from sijcare.cli.database import StoreUrl, database, shown

reminders_app = typer.Typer(help="Follow-up reminders by email.", no_args_is_help=True)
app.add_typer(reminders_app, name="reminders")


@reminders_app.command("send")
def reminders_send_command(url: StoreUrl = None) -> None:
    """Queue a questionnaire link for every point due today (at most one per point per
    SIJCARE_REMINDER_DAYS days; opted-out patients and those without an address skipped),
    then send what the outbox holds (with its retries)."""
    from sijcare.notify import send_due
    from sijcare.notify.reminders import Mailing, queue_reminders
    from sijcare.store import make_engine, session_factory
    from sijcare.web.settings import Settings

    with database(url) as target:
        try:
            settings = Settings.from_env(target)
        except ValueError as error:
            fail(str(error))
        engine = make_engine(target)
        sessions = session_factory(engine)
        mailing = Mailing(settings.secret_key, settings.public_url, settings.clinic_name,
                          settings.questionnaire_days)
        with sessions.begin() as session:
            queued = queue_reminders(session, mailing, dt.date.today(),
                                     settings.reminder_every_days)
        delivery = send_due(sessions, settings.smtp)
        engine.dispose()
    typer.echo(f"{shown(target)}: {len(queued)} reminder(s) queued; outbox: "
               f"{len(delivery.sent)} sent, {len(delivery.retrying)} to retry, "
               f"{len(delivery.failed)} failed")

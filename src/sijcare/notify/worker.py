"""A background thread that sends due mail every minute while the web app runs, so retries
happen without a cron job (`sijcare outbox send` does one round by hand or from cron)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from sijcare.notify.outbox import send_due
from sijcare.notify.smtp import SmtpSettings

log = logging.getLogger("sijcare.notify")


class OutboxWorker(threading.Thread):
    def __init__(self, sessions: sessionmaker[Session], smtp: SmtpSettings,
                 every_seconds: float = 60):
        super().__init__(name="sijcare-outbox", daemon=True)
        self.sessions, self.smtp, self.every = sessions, smtp, every_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            try:
                delivery = send_due(self.sessions, self.smtp)
            except SQLAlchemyError as error:  # the database is busy or away: next round
                log.warning("outbox round skipped: %s", error)
                continue
            if delivery.retrying or delivery.failed:
                log.warning("outbox: %d waiting to retry, %d failed (see the outbox table)",
                            len(delivery.retrying), len(delivery.failed))

    def stop(self) -> None:
        self.stopping.set()

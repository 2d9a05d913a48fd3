"""The confirmation limits hold when requests arrive together in separate connections (as from
several server processes), on SQLite and PostgreSQL: a burst never passes as one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sijcare.store import session_factory
from sijcare.store.mail_limits import PER_RECIPIENT, PER_SENDER, admit_confirmation
from sijcare.store.models import utcnow
from tests.store.helpers import migrated


def test_a_burst_for_one_recipient_admits_only_its_share(fresh_url: str) -> None:
    engine = migrated(fresh_url)
    factory, start = session_factory(engine), threading.Barrier(12)

    def confirm(sender: int) -> bool:
        start.wait()
        with factory.begin() as session:
            return admit_confirmation(session, "newsletter_confirmation", "victim",
                                      f"sender-{sender % 3}", utcnow())

    with ThreadPoolExecutor(max_workers=12) as pool:
        admitted = list(pool.map(confirm, range(12)))
    with factory.begin() as session:  # one sender's address, many recipients
        sent = [admit_confirmation(session, "appointment_confirmation", f"r{n}", "busy",
                                   utcnow()) for n in range(PER_SENDER + 2)]
    engine.dispose()
    assert admitted.count(True) == PER_RECIPIENT
    assert sent == [True] * PER_SENDER + [False, False]

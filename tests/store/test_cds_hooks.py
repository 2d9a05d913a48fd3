"""What the CDS Hooks service keeps, on SQLite and PostgreSQL: each token id spent once, in
every process at once too, and one audit entry a call that finds each of its cards."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sijcare.store import session_factory, verify_chain
from sijcare.store.cds_hooks import card_issued, card_uuids, record_call, spend_token_id
from sijcare.store.models import AuditEvent, CdsTokenId, utcnow

LATER = dt.datetime(2100, 1, 1)


def test_a_token_id_is_spent_once_per_issuer(session: Session) -> None:
    jti = str(uuid.uuid4())
    assert spend_token_id(session, "https://ehr.test", jti, LATER)
    assert not spend_token_id(session, "https://ehr.test", jti, LATER)
    assert spend_token_id(session, "https://other-ehr.test", jti, LATER)
    session.commit()
    assert not spend_token_id(session, "https://ehr.test", jti, LATER)  # committed: still
    session.rollback()


def test_expired_token_ids_are_cleared_on_the_way(session: Session) -> None:
    gone = str(uuid.uuid4())
    assert spend_token_id(session, "https://ehr.test", gone, utcnow() - dt.timedelta(seconds=1))
    session.commit()
    assert spend_token_id(session, "https://ehr.test", str(uuid.uuid4()), LATER)
    session.commit()
    assert spend_token_id(session, "https://ehr.test", gone, LATER)  # expired: forgotten
    session.commit()
    assert all(row.expires_at > utcnow() for row in session.scalars(select(CdsTokenId)))


def test_two_processes_spending_the_same_id_at_once_spend_it_once(engine: Engine) -> None:
    """The second waits for the first's commit and then finds the id spent (no error, no
    second acceptance), as two server processes would."""
    jti, answers = str(uuid.uuid4()), []
    sessions = session_factory(engine)
    with sessions() as first:
        assert spend_token_id(first, "https://ehr.test", jti, LATER)

        def second() -> None:
            with sessions() as other:
                answers.append(spend_token_id(other, "https://ehr.test", jti, LATER))
                other.commit()
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(0.5)
        assert answers == []  # still waiting for the first transaction
        first.commit()
    waiting.join(30)
    assert answers == [False]


def test_a_calls_one_entry_finds_each_of_its_cards(session: Session) -> None:
    call, uuids = card_uuids(3)
    assert len(set(uuids)) == 3 and all(u.startswith(call) for u in uuids)
    assert all(uuid.UUID(u).version == 4 for u in uuids)
    before = session.scalar(select(func.count(AuditEvent.id)))
    record_call(session, call, {"service": "sijcare-order-sign", "user": "Practitioner/1"},
                [{"uuid": u, "rule": f"rule-{n}", "stop": None, "indicator": "info"}
                 for n, u in enumerate(uuids)])
    session.commit()
    assert session.scalar(select(func.count(AuditEvent.id))) == before + 1
    assert card_issued(session, uuids[2]) == {
        "service": "sijcare-order-sign", "user": "Practitioner/1", "uuid": uuids[2],
        "rule": "rule-2", "stop": None, "indicator": "info"}
    assert card_issued(session, call + "003") is None  # no fourth card
    assert card_issued(session, str(uuid.uuid4())) is None
    assert verify_chain(session).ok

"""Rotating the audit key: the old key is retired (kept to verify), a hand-over entry hashed
with it passes the chain to the new key, and a rewrite on either side of the hand-over is
caught, even by someone holding the retired key (the reason one rotates)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sijcare.cli import app
from sijcare.engine import assess
from sijcare.store import AuditEvent, add_record, case_as_of, record_event, session_factory
from sijcare.store import audit_key as audit_key_module
from sijcare.store.audit import (
    GENESIS,
    entry_hash,
    head_seal,
    sealed_by_a_stranger,
    verify_chain,
)
from sijcare.store.audit_key import AUDIT_KEY_ENV, RETIRED_ENV, AuditKey, audit_key
from sijcare.store.checkpoint import verify_with_checkpoint, write_checkpoint
from sijcare.store.models import AuditHead
from sijcare.store.signing import seals_match_audit, sign_assessment
from tests.store.helpers import TODAY, make_world, migrated
from tests.store.test_audit import DROP_APPEND_ONLY

runner = CliRunner()
A, B = "first-audit-key-" * 3, "second-audit-key-" * 3


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Keys in files of this test's own data directory."""
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(AUDIT_KEY_ENV, raising=False)
    monkeypatch.delenv(RETIRED_ENV, raising=False)
    return tmp_path / "data"


@pytest.fixture
def chained(fresh_url: str) -> Iterator[Engine]:
    """Ten entries and a signed assessment, under the first key file."""
    engine = migrated(fresh_url)
    with session_factory(engine)() as session:
        world = make_world(session)
        add_record(session, world.episode_id, "intake", {"pain_nrs": 6, "red_flags": []},
                   world.user_id, TODAY)
        sign_assessment(session, world.episode_id, assess(
            case_as_of(session, world.episode_id, TODAY), policy="clinic"), world.user_id)
        for n in range(10):
            record_event(session, world.user_id, "read", "patient", n, detail={"n": n})
        session.commit()
    yield engine
    engine.dispose()


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def append(engine: Engine, count: int) -> None:
    with session_factory(engine).begin() as session:
        for n in range(count):
            record_event(session, None, "read", "patient", 100 + n)


def problems(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return verify_chain(session).problems + seals_match_audit(session)


def rotate(engine: Engine) -> tuple[AuditKey, AuditKey, int]:
    """`sijcare keys rotate-audit`: the old key, the new key, the hand-over's number."""
    old = audit_key(reload=True)
    done = runner.invoke(app, ["keys", "rotate-audit", "--url", url_of(engine)])
    assert done.exit_code == 0, done.output
    new = audit_key()
    assert new.secret != old.secret and new.retired == (old.secret,)
    with Session(engine) as session:
        [handed] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "rotate", AuditEvent.object_type == "audit_key"))
    assert f"entry {handed.seq} hands the chain over to key {new.key_id}" in done.stdout
    assert handed.detail and (handed.detail["previous_key_id"], handed.detail["key_id"]) == (
        old.key_id, new.key_id)
    return AuditKey(old.secret, "retired"), AuditKey(new.secret, "current"), handed.seq


def rehash(engine: Engine, key: AuditKey, start: int, end: int, seq: int,
           reseal: bool = False) -> None:
    """Someone holding `key` changes entry `seq` and hashes entries `start`..`end` again with
    it (and seals the head with it too, if asked): their best rewrite."""
    with engine.begin() as connection:
        for sql in DROP_APPEND_ONLY[engine.dialect.name]:
            connection.execute(text(sql))
    with Session(engine) as session, session.begin():
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        previous = events[start - 2].hash if start > 1 else GENESIS
        for event in events[start - 1:end]:
            if event.seq == seq:
                event.detail = {**(event.detail or {}), "rewritten": True}
            event.hash = previous = entry_hash(key, previous, event)
        if reseal:
            head = session.get(AuditHead, 1)
            assert head is not None and end == head.seq
            head.hash, head.seal = previous, head_seal(key, head.seq, previous, head.keyed_from)


def test_after_a_rotation_the_chain_verifies_across_the_hand_over(
        chained: Engine, tmp_path: Path, data_dir: Path) -> None:
    before = tmp_path / "before.json"
    with Session(chained) as session:
        write_checkpoint(verify_chain(session), before)
    old, new, handed = rotate(chained)
    append(chained, 5)
    assert problems(chained) == []  # and the assessment sealed with the old key still holds
    with Session(chained) as session:  # the entries after the hand-over: the new key's
        after = list(session.scalars(select(AuditEvent).where(AuditEvent.seq > handed)
                                     .order_by(AuditEvent.seq)))
        previous = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == handed))
        assert after[0].hash == entry_hash(new, previous, after[0])
        assert verify_with_checkpoint(session, before)[1] == []  # signed with the old key
    assert (data_dir / "audit_key.retired").read_text().strip() == old.secret.decode()
    assert (data_dir / "audit_key.retired").stat().st_mode & 0o777 == 0o600
    checked = runner.invoke(app, ["audit", "verify", "--url", url_of(chained)])
    assert checked.exit_code == 0 and "1 retired key(s)" in checked.stdout


def test_a_rewrite_before_the_hand_over_is_caught_even_with_the_old_key(
        chained: Engine) -> None:
    old, _, handed = rotate(chained)
    append(chained, 3)
    rehash(chained, old, 1, handed, seq=4)  # entries 1..hand-over rewritten with the old key
    assert problems(chained) == [f"entry {handed + 1} does not match its hash: it was "
                                 "changed, or an entry before it was removed or inserted"]


def test_a_rewrite_after_the_hand_over_is_caught_with_either_key(chained: Engine) -> None:
    old, _, handed = rotate(chained)
    append(chained, 3)
    with Session(chained) as session:
        last = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    rehash(chained, old, handed + 2, last, seq=handed + 2, reseal=True)
    found = problems(chained)
    assert found[0].startswith(f"entry {handed + 2} does not match its hash")
    assert found[-1].startswith("the chain head is sealed with a retired audit key")


def test_a_rewrite_after_the_hand_over_without_any_key_is_caught(chained: Engine) -> None:
    _, _, handed = rotate(chained)
    append(chained, 3)
    with chained.begin() as connection:
        for sql in DROP_APPEND_ONLY[chained.dialect.name]:
            connection.execute(text(sql))
        connection.execute(text("UPDATE audit_events SET object_id = '7' WHERE seq = :seq"),
                           {"seq": handed + 1})
    assert problems(chained)[0].startswith(f"entry {handed + 1} does not match its hash")


def test_a_server_still_holding_the_old_key_writes_with_the_new_one(chained: Engine) -> None:
    stale = audit_key(reload=True)
    _, new, _ = rotate(chained)
    setting = next(s for s, k in audit_key_module._loaded.items() if k.secret == new.secret)
    audit_key_module._loaded[setting] = stale  # as a process started before the rotation
    append(chained, 2)
    assert audit_key().secret == new.secret and problems(chained) == []


def test_a_key_rotated_in_the_environment_is_handed_over_by_the_next_entry(
        chained: Engine, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    file_key = (data_dir / "audit_key").read_text().strip()
    monkeypatch.setenv(AUDIT_KEY_ENV, A)
    with Session(chained) as session:  # the old key not listed: `serve` would refuse
        assert sealed_by_a_stranger(session)
    monkeypatch.setenv(RETIRED_ENV, file_key)
    with Session(chained) as session:
        assert not sealed_by_a_stranger(session)
    append(chained, 2)  # the first entry under A hands the chain over from the file's key
    assert problems(chained) == []
    url = url_of(chained)
    nothing = runner.invoke(app, ["keys", "rotate-audit", "--url", url])
    assert nothing.exit_code == 2 and "already keyed with it" in nothing.stderr
    monkeypatch.setenv(AUDIT_KEY_ENV, B)
    monkeypatch.setenv(RETIRED_ENV, f"{file_key}, {A}")
    done = runner.invoke(app, ["keys", "rotate-audit", "--url", url])
    assert done.exit_code == 0 and "hands the chain over" in done.stdout, done.output
    append(chained, 2)
    assert problems(chained) == []
    monkeypatch.setenv(RETIRED_ENV, file_key)  # A lost: what A keyed cannot be checked
    lost = problems(chained)
    assert len(lost) == 1 and "which is not held here" in lost[0]

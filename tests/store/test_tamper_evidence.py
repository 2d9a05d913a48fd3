"""The audit chain and the assessment seals are keyed with a key outside the database: the
database's owner can drop the triggers and rewrite everything, but not unseen. A checkpoint
file outside the database anchors the head even against someone who has the key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sijcare.cli import app
from sijcare.engine import assess
from sijcare.store import (
    AuditEvent,
    add_record,
    case_as_of,
    record_event,
    session_factory,
    verify_chain,
)
from sijcare.store.audit import GENESIS, entry_hash, head_seal, unkeyed_entry_hash
from sijcare.store.audit_key import AUDIT_KEY_ENV, AuditKey, AuditKeyError, audit_key
from sijcare.store.checkpoint import CheckpointError, verify_with_checkpoint, write_checkpoint
from sijcare.store.models import AuditHead, SignedAssessment, utcnow
from sijcare.store.signing import seal_intact, seals_match_audit, sign_assessment, snapshot_seal
from tests.store.helpers import TODAY, make_world, migrated
from tests.store.test_audit import DROP_APPEND_ONLY

KEY = "k" * 40
OTHER = AuditKey(b"o" * 40, AUDIT_KEY_ENV)
runner = CliRunner()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUDIT_KEY_ENV, KEY)


@pytest.fixture
def chained(fresh_url: str) -> Iterator[Engine]:
    engine = migrated(fresh_url)
    with session_factory(engine).begin() as session:
        for n in range(1, 11):
            record_event(session, n, "read", "patient", n, clinic_id=1, detail={"n": n})
    yield engine
    engine.dispose()


def rewrite_without_key(engine: Engine, seq: int, **changes: object) -> None:
    """The owner's best attempt: lift the triggers, edit an entry, hash the chain again from
    the start with everything the code shows (sha256, no key) and point the head at it."""
    with engine.begin() as connection:
        for sql in DROP_APPEND_ONLY[engine.dialect.name]:
            connection.execute(text(sql))
        connection.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(**changes))
    with Session(engine) as session, session.begin():
        previous = GENESIS
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            event.hash = previous = unkeyed_entry_hash(previous, event)
        head = session.get(AuditHead, 1)
        assert head is not None
        head.hash, head.keyed_from, head.seal = previous, None, None


def problems(engine: Engine, key: AuditKey | None = None) -> list[str]:
    with Session(engine) as session:
        return verify_chain(session, key).problems


def test_a_keyed_chain_verifies_and_its_head_is_sealed(chained: Engine) -> None:
    with Session(chained) as session:
        report = verify_chain(session)
        head = session.get(AuditHead, 1)
    assert report.ok and report.entries == 10 and report.unkeyed == 0
    assert head is not None and head.keyed_from == 1 and len(head.seal or "") == 64


def test_rewritten_and_rehashed_without_the_key_is_caught(chained: Engine) -> None:
    rewrite_without_key(chained, 4, actor_id=99)
    found = problems(chained)
    assert found[-1].startswith("the chain head carries no seal of the audit key")
    assert problems(chained, OTHER)  # and not fixed by any other key either


def test_rehashed_with_a_guessed_key_is_caught_at_the_first_entry(chained: Engine) -> None:
    rewrite_without_key(chained, 4, actor_id=99)
    with Session(chained) as session, session.begin():  # re-key with a key of their own
        previous = GENESIS
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            event.hash = previous = entry_hash(OTHER, previous, event)
        head = session.get(AuditHead, 1)
        assert head is not None
        head.hash, head.keyed_from = previous, 1
        head.seal = head_seal(OTHER, head.seq, previous, 1)
    found = problems(chained)
    assert found[0].startswith("entry 1 does not match its hash")
    assert "this is not the key the chain was written with" in found[-1]


def test_another_key_does_not_verify_the_chain(chained: Engine) -> None:
    found = problems(chained, OTHER)
    assert len(found) == 11 and "keyed with SIJCARE_AUDIT_KEY" in found[-1]


def test_a_chain_from_before_keying_still_verifies_and_is_sealed_by_its_next_entry(
        fresh_url: str) -> None:
    engine = migrated(fresh_url)
    with Session(engine) as session, session.begin():  # as 0010 wrote them: plain sha256
        head = session.get(AuditHead, 1)
        assert head is not None
        for n in range(1, 4):
            event = AuditEvent(seq=n, at=utcnow(), actor_id=n, action="read",
                               object_type="patient", object_id=str(n), clinic_id=1)
            event.hash = unkeyed_entry_hash(head.hash, event)
            session.add(event)
            head.seq, head.hash = n, event.hash
    assert problems(engine)[0].startswith("the chain head carries no seal")
    with session_factory(engine).begin() as session:
        record_event(session, None, "checkpoint", "audit_chain", None)
    with Session(engine) as session:
        report = verify_chain(session)
    assert report.ok and report.entries == 4 and report.unkeyed == 3
    # an unkeyed entry edited and its part of the chain re-hashed: the keyed entry 4 objects
    with engine.begin() as connection:
        for sql in DROP_APPEND_ONLY[engine.dialect.name]:
            connection.execute(text(sql))
    with Session(engine) as session, session.begin():
        previous = GENESIS
        for event in session.scalars(select(AuditEvent).where(AuditEvent.seq <= 3)
                                     .order_by(AuditEvent.seq)):
            if event.seq == 2:
                event.actor_id = 666
            event.hash = previous = unkeyed_entry_hash(previous, event)
    assert problems(engine) == ["entry 4 does not match its hash: it was changed, or an entry "
                                "before it was removed or inserted"]
    engine.dispose()


def test_a_checkpoint_catches_a_rewrite_even_by_someone_with_the_key(
        chained: Engine, tmp_path: Path) -> None:
    file = tmp_path / "head.json"
    with Session(chained) as session:
        write_checkpoint(verify_chain(session), file)
        assert verify_with_checkpoint(session, file) == (verify_chain(session), [])
    assert file.stat().st_mode & 0o777 == 0o600
    with chained.begin() as connection:
        for sql in DROP_APPEND_ONLY[chained.dialect.name]:
            connection.execute(text(sql))
    key = audit_key()
    with Session(chained) as session, session.begin():
        previous = GENESIS
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            event.detail = {"n": 0} if event.seq == 3 else event.detail
            event.hash = previous = entry_hash(key, previous, event)
        head = session.get(AuditHead, 1)
        assert head is not None
        head.hash, head.seal = previous, head_seal(key, head.seq, previous, head.keyed_from)
    with Session(chained) as session:
        report, found = verify_with_checkpoint(session, file)
    assert report.ok  # the chain alone cannot tell: whoever rewrote it had the key
    assert found and found[0].startswith("entry 10 differs from the checkpoint")


def test_an_edited_or_foreign_checkpoint_is_refused(chained: Engine, tmp_path: Path) -> None:
    file = tmp_path / "head.json"
    with Session(chained) as session:
        write_checkpoint(verify_chain(session), file)
        edited = json.loads(file.read_text()) | {"seq": 3}
        (tmp_path / "edited.json").write_text(json.dumps(edited))
        with pytest.raises(CheckpointError, match="signature does not match"):
            verify_with_checkpoint(session, tmp_path / "edited.json")
        with pytest.raises(CheckpointError, match="signature does not match"):
            verify_with_checkpoint(session, file, OTHER)
        (tmp_path / "junk.json").write_text("{")
        with pytest.raises(CheckpointError, match="not JSON"):
            verify_with_checkpoint(session, tmp_path / "junk.json")


def test_no_checkpoint_of_a_broken_chain(chained: Engine, tmp_path: Path) -> None:
    rewrite_without_key(chained, 2, actor_id=7)
    with Session(chained) as session, pytest.raises(CheckpointError, match="does not verify"):
        write_checkpoint(verify_chain(session), tmp_path / "head.json")
    assert not (tmp_path / "head.json").exists()


def test_a_short_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUDIT_KEY_ENV, "short")
    with pytest.raises(AuditKeyError, match="SIJCARE_AUDIT_KEY is 5 bytes long"):
        audit_key()


def test_without_the_variable_a_key_file_is_made_once_and_said(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(AUDIT_KEY_ENV)
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path))
    first = audit_key()
    assert first.from_file and (tmp_path / "audit_key").stat().st_mode & 0o777 == 0o600
    assert audit_key() == first and "keep a copy of it off this machine" in first.describe()


# -- signed assessments -----------------------------------------------------------------------


@pytest.fixture
def signed(fresh_url: str) -> Iterator[tuple[Engine, int]]:
    engine = migrated(fresh_url)
    with session_factory(engine)() as session:
        world = make_world(session)
        add_record(session, world.episode_id, "intake", {"pain_nrs": 6, "red_flags": []},
                   world.user_id, TODAY)
        assessment = assess(case_as_of(session, world.episode_id, TODAY), policy="clinic")
        signed_id = sign_assessment(session, world.episode_id, assessment, world.user_id).id
        session.commit()
    yield engine, signed_id
    engine.dispose()


def test_a_seal_is_keyed_and_matches_its_audit_entry(signed: tuple[Engine, int]) -> None:
    engine, signed_id = signed
    with Session(engine) as session:
        row = session.get(SignedAssessment, signed_id)
        assert row is not None and row.seal_version == 2 and seal_intact(row)
        assert row.sha256 != snapshot_seal(row, 1)  # not the plain hash anyone can compute
        assert seals_match_audit(session) == []


def test_a_snapshot_resealed_without_the_key_is_caught(signed: tuple[Engine, int]) -> None:
    engine, signed_id = signed
    with Session(engine) as session, session.begin():
        row = session.get(SignedAssessment, signed_id)
        assert row is not None
        row.stage = "fusion"
        row.assessment = {**row.assessment, "stage": "fusion"}
        row.seal_version, row.sha256 = 1, snapshot_seal(row, 1)  # passes as an old seal...
        assert seal_intact(row)
    with Session(engine) as session:  # ...but not as the seal its audit entry recorded
        assert seals_match_audit(session) == [
            f"signed assessment {signed_id} carries another seal than the one its audit entry "
            "recorded: it was sealed again without the key"]


def test_cli_checkpoint_then_verify_against_it(chained: Engine, tmp_path: Path) -> None:
    url = chained.url.render_as_string(hide_password=False)
    file = tmp_path / "head.json"
    written = runner.invoke(app, ["audit", "checkpoint", str(file), "--url", url])
    assert written.exit_code == 0, written.output
    assert "checkpoint of entry 11" in written.stdout and "SIJCARE_AUDIT_KEY" in written.stdout
    with Session(chained) as session:  # the checkpoint is itself audited
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert last is not None and (last.seq, last.action) == (11, "checkpoint")
        assert last.detail and last.detail["file"] == str(file.resolve())
    checked = runner.invoke(app, ["audit", "verify", "--url", url, "--checkpoint", str(file)])
    assert checked.exit_code == 0, checked.output
    assert "still holds the entry checkpointed" in checked.stdout
    rewrite_without_key(chained, 4, actor_id=99)
    broken = runner.invoke(app, ["audit", "verify", "--url", url, "--checkpoint", str(file)])
    assert broken.exit_code == 1 and "audit chain BROKEN" in broken.stderr
    assert "differs from the checkpoint" in broken.stderr

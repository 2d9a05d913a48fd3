"""The append-only audit log: every read and write of patient data, every sign-in, and
everything that takes data out (`record_export`).

Each entry's hash covers the previous entry's hash and the entry itself (canonical JSON), so
editing, deleting or inserting an entry breaks every hash after it. The hash is an HMAC under
the audit key (`audit_key.py`), which lives outside the database: whoever owns the database can
drop the append-only triggers and edit rows, but cannot compute the hashes again. The head row
carries a seal (an HMAC of the last entry's number and hash, and of `keyed_from`), so removing
entries at the end, or rewriting everything as unkeyed, shows too. Entries written before the
chain was keyed (below `keyed_from`) keep their plain sha256: the first keyed entry covers
their last hash, so they cannot change unseen either. `checkpoint.py` anchors the head in a
file outside the database. When the audit key is rotated, the first append under the new key
writes a hand-over entry (`rotate audit_key`, naming the new key's id), hashed with the old key:
entries up to it verify with the old (retired) key, entries after it with the new one, and the
head is sealed with the new one. Appends lock the single
chain-head row (SELECT ... FOR UPDATE on PostgreSQL; SQLite connections begin IMMEDIATE and so
already write one at a time), which keeps the chain linear under concurrent requests. The
entry joins the caller's transaction: it is committed, or rolled back, with what it records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.audit_key import RETIRED_ENV, AuditKey, audit_key
from sijcare.store.models import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64
# The chain head, locked; built once since every audited request runs it.
_LOCKED_HEAD = (select(AuditHead).where(AuditHead.id == 1).with_for_update()
                .execution_options(populate_existing=True))


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _hashed(previous: str, event: AuditEvent) -> str:
    entry = {
        "seq": event.seq, "at": event.at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id, "action": event.action, "object_type": event.object_type,
        "object_id": event.object_id, "clinic_id": event.clinic_id, "detail": event.detail,
    }
    return previous + canonical_json(entry)


def unkeyed_entry_hash(previous: str, event: AuditEvent) -> str:
    """The sha256 of entries written before the chain was keyed (and all anyone without the
    key can compute)."""
    return hashlib.sha256(_hashed(previous, event).encode()).hexdigest()


def entry_hash(key: AuditKey, previous: str, event: AuditEvent) -> str:
    return key.mac("audit-entry", _hashed(previous, event))


def head_seal(key: AuditKey, seq: int, hash_: str, keyed_from: int | None) -> str:
    return key.mac("audit-head", f"{seq}\n{hash_}\n{keyed_from}")


HAND_OVER = ("rotate", "audit_key")  # (action, object_type) of a key hand-over entry


def record_event(session: Session, actor_id: int | None, action: str, object_type: str,
                 object_id: int | str | None, clinic_id: int | None = None,
                 detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append one entry (e.g. action "read", object "patient", 12) to the chain."""
    head = session.execute(_LOCKED_HEAD).scalar_one()
    key, sealed_by = _keys_for(head)
    if sealed_by is not None:
        _append(session, head, sealed_by, key, None, *HAND_OVER, key.key_id, None,
                {"key_id": key.key_id, "previous_key_id": sealed_by.key_id})
    return _append(session, head, key, key, actor_id, action, object_type, object_id,
                   clinic_id, detail)


def hand_over(session: Session, detail: dict[str, Any]) -> AuditEvent | None:
    """Write the hand-over entry to the current audit key now, if the chain is still keyed
    with a retired one (after `sijcare keys rotate-audit`); None if nothing was due."""
    head = session.execute(_LOCKED_HEAD).scalar_one()
    key, sealed_by = _keys_for(head)
    if sealed_by is None:
        return None
    return _append(session, head, sealed_by, key, None, *HAND_OVER, key.key_id, None,
                   {"key_id": key.key_id, "previous_key_id": sealed_by.key_id, **detail})


def _keys_for(head: AuditHead) -> tuple[AuditKey, AuditKey | None]:
    """The key to write with, and the retired key that sealed the head if the chain was not
    yet handed over. A seal no held key made (the key changed under a running process, or the
    head was tampered with) reads the key files again once; if still unknown, entries are
    written on with the current key and verification shows the break."""
    key = audit_key()
    if head.seal is None or head.seal == head_seal(key, head.seq, head.hash, head.keyed_from):
        return key, None
    key = audit_key(reload=True)
    sealed = _sealing_key(head, key)
    return key, None if sealed is None or sealed.secret == key.secret else sealed


def _sealing_key(head: AuditHead, key: AuditKey) -> AuditKey | None:
    """The held key (current or retired) that sealed the head; None if none did."""
    return next((held for held in key.held()
                 if head.seal == head_seal(held, head.seq, head.hash, head.keyed_from)), None)


def sealed_by_a_stranger(session: Session, key: AuditKey | None = None) -> bool:
    """Whether the chain's head is sealed with no key held here: the key was changed without
    the old one being listed as retired (whatever is written now breaks the chain), or the
    head was tampered with. `serve` refuses to start so."""
    head = session.get(AuditHead, 1)
    return (head is not None and head.seal is not None
            and _sealing_key(head, key or audit_key()) is None)


def _append(session: Session, head: AuditHead, hashed_with: AuditKey, sealed_with: AuditKey,
            actor_id: int | None, action: str, object_type: str, object_id: int | str | None,
            clinic_id: int | None, detail: dict[str, Any] | None) -> AuditEvent:
    """The entry after the locked `head`, hashed with one key and the head sealed with
    another (the same but at a hand-over)."""
    if head.keyed_from is None:  # the first entry since the chain was keyed
        head.keyed_from = head.seq + 1
    event = AuditEvent(
        seq=head.seq + 1, at=utcnow(), actor_id=actor_id, action=action,
        object_type=object_type, object_id=None if object_id is None else str(object_id),
        clinic_id=clinic_id, detail=detail,
    )
    event.hash = entry_hash(hashed_with, head.hash, event)
    head.seq, head.hash = event.seq, event.hash
    head.seal = head_seal(sealed_with, head.seq, head.hash, head.keyed_from)
    session.add(event)
    session.flush()
    return event


EXPORT = "export"


def record_export(session: Session, actor_id: int | None, object_type: str,
                  object_id: int | str | None = None, clinic_id: int | None = None, *,
                  via: str, detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append the entry for data leaving sijcare: a report, an export, a backup.

    Every way out (web download, command, and the FHIR export to come) calls this, so one
    query (`action = 'export'`) finds everything that left: what (`object_type`, e.g.
    "episode", "registry", "research_export", "database"), which one, whose clinic, and `via`,
    the route or command that let it out; `detail` says the rest (filters, file, row counts).
    `actor_id` None: a command run on the server, which names no user of the app.
    """
    return record_event(session, actor_id, EXPORT, object_type, object_id, clinic_id,
                        {"via": via, **(detail or {})})


@dataclass(frozen=True)
class AuditReport:
    """`ok` when every entry is where the chain says; `problems` says where it is not."""

    entries: int
    head_seq: int
    head_hash: str
    unkeyed: int = 0  # entries from before the chain was keyed
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(session: Session, key: AuditKey | None = None) -> AuditReport:
    """Recompute the whole chain; report gaps, changed entries and a head that disagrees.

    The first keyed entry says which held key the chain began with; each hand-over entry,
    checked with the key before it, passes the chain to the key it names; the head must be
    sealed with the current key."""
    key = key or audit_key()
    problems: list[str] = []
    previous_seq, previous_hash, count = 0, GENESIS, 0
    head = session.get(AuditHead, 1)
    keyed_from = head.keyed_from if head is not None else None
    unkeyed = 0
    held = {candidate.key_id: candidate for candidate in key.held()}
    segment: AuditKey | None = None  # the key of the entries being read
    unverifiable: str | None = None  # the id of a key the chain was handed to and is not held
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)
                             .execution_options(yield_per=1000))
    for event in events:
        count += 1
        if event.seq != previous_seq + 1:
            problems.append(f"entries {previous_seq + 1} to {event.seq - 1} are missing"
                            if event.seq > previous_seq + 1
                            else f"entry {event.seq} is out of sequence")
        keyed = keyed_from is not None and event.seq >= keyed_from
        unkeyed += not keyed
        if not keyed:
            matches = unkeyed_entry_hash(previous_hash, event) == event.hash
        elif unverifiable is None:
            segment = segment or _first_key(held.values(), previous_hash, event) or key
            matches = entry_hash(segment, previous_hash, event) == event.hash
            if matches and (event.action, event.object_type) == HAND_OVER:
                named = str((event.detail or {}).get("key_id"))
                segment, unverifiable = held.get(named), None if named in held else named
        else:
            matches = True  # the key is not held: said once below
        if not matches:
            problems.append(f"entry {event.seq} does not match its hash: it was changed, or an "
                            "entry before it was removed or inserted")
        previous_seq, previous_hash = event.seq, event.hash
    if unverifiable is not None:
        problems.append(f"the chain was handed over to audit key {unverifiable}, which is not "
                        f"held here: entries after the hand-over cannot be verified (set "
                        f"{RETIRED_ENV} or restore audit_key.retired)")
    if head is None:
        problems.append("the chain head is missing")
        return AuditReport(count, previous_seq, previous_hash, unkeyed, problems)
    if (head.seq, head.hash) != (previous_seq, previous_hash):
        problems.append(f"the chain head names entry {head.seq} but the log ends at entry "
                        f"{previous_seq}: entries at the end were removed or added")
    problems += _seal_problems(head, key, count)
    return AuditReport(count, previous_seq, previous_hash, unkeyed, problems)


def _first_key(held: Iterable[AuditKey], previous_hash: str,
               event: AuditEvent) -> AuditKey | None:
    """The held key the first keyed entry was hashed with (None: no held key made it)."""
    return next((candidate for candidate in held
                 if entry_hash(candidate, previous_hash, event) == event.hash), None)


def _seal_problems(head: AuditHead, key: AuditKey, count: int) -> list[str]:
    if head.seal is None:
        return [] if not count else [
            "the chain head carries no seal of the audit key: the log was rewritten "
            "without the key, or nothing was appended since the upgrade to a keyed chain "
            "(`sijcare audit checkpoint` appends an entry)"]
    if head.seal == head_seal(key, head.seq, head.hash, head.keyed_from):
        return []
    if _sealing_key(head, key) is not None:
        return ["the chain head is sealed with a retired audit key: the key was rotated and "
                "the chain not yet handed over to the new one (`sijcare keys rotate-audit` or "
                "any new entry writes the hand-over)"]
    return ["the chain head's seal does not match: the head was rewritten without the audit "
            f"key, or this is not the key the chain was written with ({key.describe()})"]

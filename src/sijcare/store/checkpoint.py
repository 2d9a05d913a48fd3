"""Checkpoints: the audit chain's head written to a signed file outside the database.

A checkpoint names an entry (its number and hash) and is signed with the audit key. Kept
where the database's owner cannot write (another machine, a write-once store, a printout of
its line), it shows later that the log still holds that entry unchanged, and everything
before it, even to someone who has since obtained the key and rewritten the chain with it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sijcare.store.audit import AuditReport, canonical_json, verify_chain
from sijcare.store.audit_key import AuditKey, audit_key
from sijcare.store.models import AuditEvent, utcnow

KIND = "sijcare-audit-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """The checkpoint file cannot be read, or was not signed with this audit key."""


def _signed_part(checkpoint: dict[str, object]) -> str:
    return canonical_json({name: value for name, value in checkpoint.items() if name != "mac"})


def write_checkpoint(report: AuditReport, path: Path, key: AuditKey | None = None) -> dict:
    """Write the verified chain's head to `path` (mode 0600, replaced atomically)."""
    if not report.ok:
        raise CheckpointError("the audit chain does not verify; a checkpoint would anchor a "
                              "tampered log")
    key = key or audit_key()
    checkpoint: dict[str, object] = {
        "kind": KIND, "version": VERSION, "seq": report.head_seq, "hash": report.head_hash,
        "entries": report.entries, "written_at": utcnow().isoformat(timespec="seconds"),
    }
    checkpoint["mac"] = key.mac("audit-checkpoint", _signed_part(checkpoint))
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(json.dumps(checkpoint, indent=1) + "\n")
    os.replace(partial, path)
    return checkpoint


def read_checkpoint(path: Path, key: AuditKey | None = None) -> dict:
    """The checkpoint in `path`, its signature checked."""
    key = key or audit_key()
    try:
        checkpoint = json.loads(path.read_text())
    except OSError as error:
        raise CheckpointError(f"{path}: {error.strerror or error}") from None
    except ValueError:
        raise CheckpointError(f"{path}: not a checkpoint (not JSON)") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("kind") != KIND:
        raise CheckpointError(f"{path}: not a sijcare audit checkpoint")
    if checkpoint.get("version") != VERSION or not isinstance(checkpoint.get("seq"), int):
        raise CheckpointError(f"{path}: a checkpoint of an unknown version")
    signed = _signed_part(checkpoint)  # by this key, or one it retired since
    if not any(checkpoint.get("mac") == held.mac("audit-checkpoint", signed)
               for held in key.held()):
        raise CheckpointError(f"{path}: the checkpoint's signature does not match: it was "
                              f"edited, or signed with another key ({key.describe()})")
    return checkpoint


def against_checkpoint(session: Session, checkpoint: dict) -> list[str]:
    """Problems if the log no longer holds the checkpoint's entry as it was."""
    seq, expected = checkpoint["seq"], checkpoint["hash"]
    if seq == 0:
        return []
    stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))
    if stored is None:
        return [f"the checkpoint names entry {seq}, which the log no longer holds: entries "
                "were removed"]
    if stored != expected:
        return [f"entry {seq} differs from the checkpoint written {checkpoint['written_at']}: "
                "the log up to it was rewritten"]
    return []


def verify_with_checkpoint(session: Session, path: Path,
                           key: AuditKey | None = None) -> tuple[AuditReport, list[str]]:
    """The chain's report, and the problems the checkpoint at `path` adds."""
    key = key or audit_key()
    checkpoint = read_checkpoint(path, key)
    return verify_chain(session, key), against_checkpoint(session, checkpoint)

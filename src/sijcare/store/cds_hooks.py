"""What a CDS Hooks service keeps: the JWT ids it has seen, and the feedback on its cards.

Nothing the EHR sends about a patient is stored here: a hook call leaves its audit entries
(one per card, naming its uuid, rule and stop), and feedback is filed against those.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sijcare.store.models import AuditEvent, CdsFeedback, CdsTokenId, utcnow

CARD = "cds_card"  # the audit object type of a card shown in an EHR


def spend_token_id(session: Session, issuer: str, jti: str, expires_at: dt.datetime) -> bool:
    """Keep the token's id until it expires; False if it was already seen (a replay).
    Runs in its own transaction (the caller commits), after clearing expired ids."""
    session.execute(delete(CdsTokenId).where(CdsTokenId.expires_at < utcnow()))
    key = hashlib.sha256(f"{issuer}\n{jti}".encode()).hexdigest()
    try:
        with session.begin_nested():
            session.add(CdsTokenId(key_hash=key, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def card_issued(session: Session, card: str) -> dict[str, Any] | None:
    """The audit entry's detail of the card with this uuid, or None if sijcare issued none."""
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == CARD, AuditEvent.object_id == card)).first()
    return event.detail if event else None


def add_feedback(session: Session, service: str, issuer: str, item: dict[str, Any],
                 issued: dict[str, Any] | None) -> CdsFeedback:
    """One feedback item (already validated) on a card `issued` by this service."""
    reason = (item.get("overrideReason") or {}).get("reason") or {}
    row = CdsFeedback(
        service=service, card=item["card"], outcome=item["outcome"],
        outcome_at=item["outcomeTimestamp"], issuer=issuer,
        rule=(issued or {}).get("rule"), stop=(issued or {}).get("stop"),
        ehr_user=(issued or {}).get("user"), reason_system=reason.get("system"),
        reason_code=reason.get("code"), reason_display=reason.get("display"),
        comment=(item.get("overrideReason") or {}).get("userComment"),
        accepted_suggestions=[s["id"] for s in item.get("acceptedSuggestions") or []] or None)
    session.add(row)
    session.flush()
    return row


@dataclass
class OverrideLine:
    """How one rule's (or safety stop's) cards fared: shown is what feedback came back."""

    rule: str
    stop: str | None
    accepted: int = 0
    overridden: int = 0
    users: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    comments: list[str] = field(default_factory=list)


def override_report(session: Session) -> list[OverrideLine]:
    """Per rule and per safety stop: how often accepted and overridden, by whom, why; the
    most overridden first."""
    lines: dict[tuple[str, str | None], OverrideLine] = {}
    for row in session.scalars(select(CdsFeedback).order_by(CdsFeedback.outcome_at)):
        key = (row.rule or "unknown card", row.stop)
        line = lines.setdefault(key, OverrideLine(*key))
        if row.outcome == "accepted":
            line.accepted += 1
            continue
        line.overridden += 1
        line.users[row.ehr_user or "not named"] += 1
        line.reasons[row.reason_display or row.reason_code or "no reason given"] += 1
        if row.comment:
            line.comments.append(row.comment)
    return sorted(lines.values(), key=lambda line: (-line.overridden, line.rule))

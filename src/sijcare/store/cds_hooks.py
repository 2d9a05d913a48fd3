"""What a CDS Hooks service keeps: the JWT ids it has seen, and the feedback on its cards.

Nothing the EHR sends about a patient is stored here: a hook call leaves one audit entry
naming each card it answered (uuid, rule, stop), and feedback is filed against it. A card's
uuid is the call's id followed by the card's number in three hex digits, so feedback on a
card finds its call's entry by the audit index (`card_issued`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sijcare.store.audit import record_event
from sijcare.store.db import insert_or
from sijcare.store.models import AuditEvent, CdsFeedback, CdsTokenId, utcnow

CALL = "cds_call"  # the audit object type of a hook call, its id the stem of its cards' uuids
CARD = "cds_card"  # the audit object type of feedback's card
TOKEN_IDS = CdsTokenId.__table__  # spent with Core statements: a call's one write costs least
NUMBER = 3  # hex digits of a card's number at the end of its uuid: 4,096 cards a call at most


def spend_token_id(session: Session, issuer: str, jti: str, expires_at: dt.datetime) -> bool:
    """Keep the token's id until it expires; False if it was already seen (a replay), also
    by another process at the same moment. Expired ids are cleared on the way; the caller
    commits, with whatever else the call writes."""
    session.execute(delete(TOKEN_IDS).where(TOKEN_IDS.c.expires_at < utcnow()))
    key = hashlib.sha256(f"{issuer}\n{jti}".encode()).hexdigest()
    spent = session.execute(insert_or(session, TOKEN_IDS)
                            .values(key_hash=key, expires_at=expires_at)
                            .on_conflict_do_nothing(index_elements=["key_hash"])
                            .returning(TOKEN_IDS.c.key_hash))
    return spent.first() is not None


def card_uuids(count: int) -> tuple[str, list[str]]:
    """A new call's id and the uuids of its `count` cards (each still a version-4 uuid)."""
    if count >= 16 ** NUMBER:
        raise ValueError(f"a call answers at most {16 ** NUMBER - 1} cards")
    call = str(uuid.uuid4())[:-NUMBER]
    return call, [f"{call}{number:0{NUMBER}x}" for number in range(count)]


def record_call(session: Session, call: str, detail: dict[str, Any],
                cards: list[dict[str, Any]]) -> None:
    """The call's one audit entry: `detail` (service, issuer, hookInstance, the EHR's user and
    patient id) and each card's uuid, rule, stop and indicator."""
    record_event(session, None, "cds_hook", CALL, call, None, {**detail, "cards": cards})


def card_issued(session: Session, card: str) -> dict[str, Any] | None:
    """What the call's audit entry says of the card with this uuid (with the call's service,
    issuer, user and patient), or None if sijcare issued no such card."""
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == CALL, AuditEvent.object_id == card[:-NUMBER])).first()
    detail = event.detail if event else {}
    issued = next((c for c in detail.get("cards") or [] if c.get("uuid") == card), None)
    if issued is None:
        return None
    return {**{k: v for k, v in detail.items() if k != "cards"}, **issued}


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

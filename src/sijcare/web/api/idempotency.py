"""The `Idempotency-Key` header on the JSON API's writes: the first answer is kept with the
write (`store/idempotency.py`); a retry with the same key and body gets it again, marked
`Idempotent-Replayed: true`, and a key reused for another request is refused (422)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sijcare.store.idempotency import (
    MAX_KEY_LENGTH,
    Answered,
    KeyInFlight,
    KeyReused,
    claim,
    keep_answer,
)
from sijcare.store.models import IdempotentRequest
from sijcare.web.deps import CurrentActor, DbSession
from sijcare.web.problems import unprocessable

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
DESCRIPTION = (
    "Optional. A unique string (1-255 visible ASCII characters, e.g. a UUID) for this write. "
    "Retrying with the same key and the same body returns the first answer (with "
    f"`{REPLAYED}: true`) and writes nothing again; the same key with another body, method or "
    "path is refused (422); while the first request is still running, 409. Keys are per user "
    "and kept 24 hours; after that the same key names a new write.")


class Replayed(HTTPException):
    """The answer stored for this key, sent again (the audit entry says "replayed")."""

    audit_outcome = "replayed"

    def __init__(self, answered: Answered):
        super().__init__(answered.status)
        self.body = answered.body


async def replay(request: Request, error: Replayed) -> JSONResponse:
    return JSONResponse(error.body, status_code=error.status_code, headers={REPLAYED: "true"})


@dataclass
class IdempotentWrite:
    """What a write route returns goes through `answer`, which keeps it with the claim."""

    claimed: IdempotentRequest | None
    status: int

    def answer(self, result: BaseModel) -> Any:
        if self.claimed is not None:
            keep_answer(self.claimed, self.status, jsonable_encoder(result))
        return result


async def idempotent(request: Request, db: DbSession, actor: CurrentActor,
                     key: Annotated[str | None, Header(alias=HEADER, description=DESCRIPTION)]
                     = None) -> IdempotentWrite:
    status = request.scope["route"].status_code or 200
    if key is None:
        return IdempotentWrite(None, status)
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise unprocessable([(HEADER, f"1 to {MAX_KEY_LENGTH} visible ASCII characters")],
                            "header")
    body = await request.body()
    try:
        found = await run_in_threadpool(claim, db, actor.id, key, request.method,
                                        request.url.path, body)
    except KeyReused:
        raise unprocessable([(HEADER, "this key was used for another request (another body, "
                                      "method or path); use a new key for a new write")],
                            "header") from None
    except KeyInFlight:
        raise HTTPException(409, f"A request with this {HEADER} is still being carried out; "
                                 "retry it in a moment.") from None
    if isinstance(found, Answered):
        raise Replayed(found)
    return IdempotentWrite(found, status)


Idempotent = Annotated[IdempotentWrite, Depends(idempotent)]

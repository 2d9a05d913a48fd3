"""Authenticating a call: the token verified, and its `jti` spent in the database (so a
replay is refused however many processes serve), in the call's first short transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from sijcare.store.cds_hooks import spend_token_id
from sijcare.web.cds_hooks.tokens import Caller, Refused, bearer, verify
from sijcare.web.deps import in_db

T = TypeVar("T")


def endpoint_url(request: Request) -> str:
    """The exact URL the EHR called, as the public base URL names it (the token's `aud`)."""
    return request.app.state.settings.public_url + request.url.path


def caller_of(request: Request) -> Caller:
    """The caller the token names, its jti not spent yet (`spent` does, with the call's
    first database work); Refused (401) otherwise. In a worker thread: it may fetch keys."""
    state = request.app.state
    return verify(bearer(request.headers.get("authorization")), endpoint_url(request),
                  state.cds_issuers, state.cds_keysets)


async def verified(request: Request) -> Caller:
    return await run_in_threadpool(caller_of, request)


async def spent(request: Request, caller: Caller, work: Callable[[Session], T]) -> T:
    """`work(session)` in the transaction that spends the caller's jti; Refused (and
    nothing done) if the jti was seen before."""
    def both(db: Session) -> T:
        if not spend_token_id(db, caller.iss, caller.jti, caller.expires_at):
            raise Refused
        return work(db)
    return await in_db(request, both)


async def authenticated(request: Request) -> Caller:
    """The verified caller, its jti spent; Refused (401) otherwise, also for a replay."""
    caller = await verified(request)
    await spent(request, caller, lambda db: None)
    return caller

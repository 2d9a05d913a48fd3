"""Request dependencies: the database session, the signed-in actor (`actors.py`), a role check.

Both the session and the audit note (see `audit.py`) are function-scoped, so the commit
happens before the response is sent: a page never shows data whose audit entry failed.
On SQLite, where the store begins every transaction IMMEDIATE (one writer at a time, and
every request writes its audit entry), requests wait their turn at an async lock
(`db_gate`): waiting holds no worker thread and no SQLite busy-handler sleep, so a burst of
requests queues fairly instead of stalling the thread pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import nullcontext
from typing import Annotated, TypeVar

from anyio import CancelScope
from fastapi import Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BeforeValidator
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from sijcare.web.auth.access import Actor, Permission
from sijcare.web.auth.actors import load_actor
from sijcare.web.strict import digits


class NotSignedIn(Exception):
    """No valid sign-in: pages redirect to the sign-in form, the API answers 401."""

    def __init__(self, timed_out: bool = False):
        self.timed_out = timed_out


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One session per request, committed at its end, or rolled back if anything failed."""
    async with request.app.state.db_gate or nullcontext():
        request.state.holds_db_gate = True
        db = request.app.state.sessions()
        try:
            yield db
        except BaseException:
            with CancelScope(shield=True):
                await run_in_threadpool(db.rollback)
            raise
        else:
            with CancelScope(shield=True):
                await run_in_threadpool(db.commit)
        finally:
            with CancelScope(shield=True):
                await run_in_threadpool(db.close)


DbSession = Annotated[Session, Depends(get_db, scope="function")]
T = TypeVar("T")


def _run(sessions: Callable[[], Session], work: Callable[[Session], T]) -> T:
    with sessions() as db:
        result = work(db)
        db.commit()
        return result


async def in_db(request: Request, work: Callable[[Session], T]) -> T:
    """`work(session)` in a short committed transaction of its own, in a worker thread: for
    a request whose slow part (calls to another server, the engine) must hold no connection
    and, on SQLite, no write lock."""
    state = request.app.state
    async with state.db_gate or nullcontext():
        return await run_in_threadpool(_run, state.sessions, work)


def end_reads(db: Session) -> None:
    """End a page's reading transaction before its slow part (the engine, a template, a
    chart): the connection goes back to the pool, and on SQLite the write lock is let go,
    while the page is drawn. The request's audit entry is appended after it, in a short
    transaction of its own that still commits before the answer is sent. Only for reads:
    nothing may be pending."""
    assert not (db.new or db.dirty or db.deleted), "end_reads after a write"
    db.commit()


async def current_actor(request: Request) -> Actor:
    session = request.state.session
    if session.user_id is None:
        raise NotSignedIn(timed_out=session.timed_out)
    state = request.app.state
    key = (session.user_id, session.password_fingerprint)
    actor = state.actors.get(key)
    if actor is None:
        held = getattr(request.state, "holds_db_gate", False)
        async with nullcontext() if held or state.db_gate is None else state.db_gate:
            actor = await run_in_threadpool(load_actor, state.sessions, key)
        if actor is None:
            session.sign_out()
            raise NotSignedIn()
        state.actors.put(key, actor)
    request.state.actor = actor
    return actor


class PasswordChangeRequired(Exception):
    """An admin reset the password: the user must choose a new one before anything else."""


class SecondFactorRequired(Exception):
    """The account must enrol an authenticator before anything else (admins; clinicians of a
    clinic that requires it)."""


PASSWORD_CHANGE_PATH = "/account/password"
ENROLMENT_PATH = "/account/two-factor"


async def current_actor_checked(request: Request,
                                actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if actor.must_change_password and request.url.path != PASSWORD_CHANGE_PATH:
        raise PasswordChangeRequired()
    if (actor.must_enrol_second_factor and not actor.must_change_password
            and request.url.path != ENROLMENT_PATH):
        raise SecondFactorRequired()
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor_checked)]


# A page number that fits every database's OFFSET arithmetic (a huge one used to answer 500).
Page = Annotated[int, BeforeValidator(digits), Query(ge=1, le=100_000)]


def forbidden(actor: Actor) -> HTTPException:
    return HTTPException(403, f"Your role ({actor.role}) does not allow this.")


def require(permission: Permission) -> Callable[[Actor], Awaitable[Actor]]:
    """For routes that touch no patient: only the role matters (async: no I/O, no thread)."""

    async def dependency(actor: CurrentActor) -> Actor:
        if not actor.may(permission):
            raise forbidden(actor)
        return actor

    return dependency


async def submitted_form(request: Request) -> FormData:
    """The posted form, read on the event loop so that the route itself can stay sync."""
    return await request.form()


SubmittedForm = Annotated[FormData, Depends(submitted_form)]

"""At most so many requests at a time per process; past that, a short wait, then 503.

Every admitted request may hold one database connection, so the limit (`max_requests`,
`SIJCARE_MAX_REQUESTS`) stays below the pool's connections (one is left for the mail
worker): an admitted request never waits for a connection, and the pool's timeout is never
reached. A request over the limit waits for a turn, first come first served, for at most
`queue_seconds` (`SIJCARE_QUEUE_SECONDS`); then it answers 503 with `Retry-After`, which a
browser shows and a client can act on, instead of queueing until the pool gives up with a
500. Static assets and `/api/v1/health` touch no database and pass at once: a liveness
probe should say the process is alive while it is busy.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from sijcare.web.errors import refusal
from sijcare.web.middleware.asgi import HTTPMiddleware

UNLIMITED_PATHS = ("/static/", "/api/v1/health")
BUSY = "The clinic app is busy right now. Please try again in a few seconds."


class Admission(HTTPMiddleware):
    def __init__(self, app: ASGIApp, limit: int, wait_seconds: float):
        super().__init__(app)
        self.turns = anyio.Semaphore(limit)
        self.wait_seconds = wait_seconds
        self.busy = refusal(503, BUSY, headers={"retry-after": str(max(1, round(wait_seconds)))})

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(UNLIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        admitted = False
        with anyio.move_on_after(self.wait_seconds):
            await self.turns.acquire()
            admitted = True
        if not admitted:
            await self.busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.turns.release()

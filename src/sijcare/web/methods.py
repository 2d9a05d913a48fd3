"""`OPTIONS` and the `Allow` header of a 405 name every method a path takes.

Starlette looks at one route at a time, so for a path served by two routes (`GET` and `POST
/api/v1/patients/{id}/episodes`) it used to answer `Allow: GET` alone.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sijcare.web.headers import security_headers


def methods_of(scope: Scope) -> set[str]:
    """Every method of every route whose path matches the request's."""
    methods: set[str] = set()
    for route in scope["app"].router.routes:
        if isinstance(route, Route) and route.methods and \
                route.matches(scope)[0] is not Match.NONE:
            methods |= route.methods
    return methods


class AllowedMethods:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and (methods := methods_of(scope)):
            await send({"type": "http.response.start", "status": 204, "headers": [
                (b"allow", ", ".join(sorted(methods | {"OPTIONS"})).encode()),
                *((k.encode(), v.encode()) for k, v in security_headers().items())]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                MutableHeaders(scope=message)["allow"] = ", ".join(
                    sorted(methods_of(scope) | {"OPTIONS"}))
            await send(message)

        await self.app(scope, receive, send_allow)

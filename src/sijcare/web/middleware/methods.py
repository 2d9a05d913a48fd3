"""`OPTIONS` and the `Allow` header of a 405 name every method a path takes.

Starlette looks at one route at a time, so for a path served by two routes (`GET` and `POST
/api/v1/patients/{id}/episodes`) it used to answer `Allow: GET` alone.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.routing import Match, Mount
from starlette.types import Message, Receive, Scope, Send

from sijcare.web.middleware.asgi import HTTPMiddleware
from sijcare.web.middleware.headers import security_headers

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def methods_of(scope: Scope) -> set[str]:
    """Every method some route fully matches for the request's path (asked through the
    routes' public `matches`, since FastAPI nests included routers)."""
    routes = scope["app"].router.routes
    return {method for method in METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL
                   and not _is_mount(route) for route in routes)}


def _is_mount(route: object) -> bool:
    """A mount (the static files) matches any method."""
    return isinstance(route, Mount)


class AllowedMethods(HTTPMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
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

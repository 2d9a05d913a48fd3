"""Security headers on every response; patient pages are never cached by the browser."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from sijcare.web.middleware.asgi import HTTPMiddleware

# Everything is served from this origin: no CDN, no inline script, no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# A response may ask for this instead of `no-store`: the browser keeps it privately but asks
# each time, sending its ETag back (the course chart: a repeat view is a 304, not a drawing).
REVALIDATE = "private, no-cache"


def security_headers(static: bool = False) -> dict[str, str]:
    """The headers every response carries (error pages too); `no-store` on all but assets."""
    headers = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
               "x-frame-options": "DENY", "referrer-policy": "same-origin"}
    if not static:
        headers["cache-control"] = "no-store"
    return headers


class SecurityHeaders(HTTPMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                own = headers.get("cache-control")
                headers.update(security_headers(static))
                if own == REVALIDATE:
                    headers["cache-control"] = own
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Request bodies: a size limit enforced while reading, and JSON that is strictly JSON.

The limit is checked against `Content-Length` before a byte is read, and counted while
reading, so a chunked body without a length cannot grow past it either (413). A JSON body is
parsed once here, before any route sees it: `NaN`, `Infinity`, numbers too large for a
float, lone surrogates and very deep nesting are refused with a 422 (CDS Hooks: 400) naming
the problem, never the value, so nothing that cannot be encoded as JSON reaches a validator or
an error answer.
"""

from __future__ import annotations

import json
import math
import re
from email.message import Message as MimeHeader

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sijcare.web.errors import bad_body_status, refusal

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")
# A lone surrogate in UTF-8 JSON is an escape (\uD800-\uDFFF) or its bytes (ED A0-BF, which
# json.loads lets through): a UTF-8 body with neither a `\u` nor an ED byte holds none.
_MAY_HOLD_SURROGATE = (b"\\u", b"\xed")


class BodyProblem(ValueError):
    """The body is not acceptable JSON; the message names the problem, not the value."""


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BodyProblem("a number is too large to be represented")
    return number


def _constant(name: str) -> float:
    raise BodyProblem(f"{name} is not a JSON number; send finite numbers only")


def _check(value: object, depth: int = 0, texts: bool = True) -> None:
    """Refuse nesting deeper than MAX_DEPTH, and lone surrogates (not text) when `texts`:
    without, only containers are walked."""
    if depth > MAX_DEPTH:
        raise BodyProblem(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if texts and _SURROGATE.search(value):
            raise BodyProblem("a string holds a lone surrogate, which is not text")
    elif isinstance(value, dict | list):
        if value and depth == MAX_DEPTH:
            raise BodyProblem(f"nested more than {MAX_DEPTH} levels deep")
        items = value.values() if isinstance(value, dict) else value
        if texts and isinstance(value, dict):
            for key in value:
                _check(key, depth + 1)
        for item in items:
            if texts or isinstance(item, dict | list):
                _check(item, depth + 1, texts)


def check_json(body: bytes) -> None:
    """Raise BodyProblem unless `body` is strict JSON (an empty body is left to the route)."""
    if not body.strip():
        return
    try:
        parsed = json.loads(body, parse_constant=_constant, parse_float=_finite,
                            parse_int=_whole)
    except BodyProblem:
        raise
    except RecursionError:
        raise BodyProblem(f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:
        raise BodyProblem("the body is not valid JSON (UTF-8)") from None
    texts = json.detect_encoding(body) != "utf-8" or any(
        sign in body for sign in _MAY_HOLD_SURROGATE)
    _check(parsed, texts=texts)


def _whole(text: str) -> int:
    if len(text.lstrip("-")) > 300:  # int("9" * 5000) is slow and no field needs it
        raise BodyProblem("a number has too many digits")
    return int(text)


def is_json(scope: Scope) -> bool:
    """As FastAPI decides: no content type, `application/json` or `application/*+json`."""
    content_type = next((v.decode("latin-1") for k, v in scope["headers"]
                         if k == b"content-type"), None)
    if content_type is None:
        return True
    header = MimeHeader()
    header["content-type"] = content_type
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json"))


class TooLarge(Exception):
    """The body grew past the limit while it was read."""


# Room a file upload's body needs beside the file itself: the form's other fields and the
# multipart framing.
UPLOAD_OVERHEAD = 64 * 1024


class RequestBodies:
    """Reads each request body up to `limit` bytes (or the larger limit of a path that takes
    files, `larger`: path pattern -> bytes) and checks JSON before the app runs."""

    def __init__(self, app: ASGIApp, limit: int,
                 larger: dict[re.Pattern[str], int] | None = None):
        self.app, self.default, self.larger = app, limit, larger or {}

    async def _read(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body, None if the client went away; TooLarge past the limit."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = next((size for path, size in self.larger.items() if path.match(scope["path"])),
                     self.default)
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        # the rest of a refused body is never read, so the connection cannot be reused
        too_large = refusal(413, f"The request body is larger than {limit} bytes.",
                            close=True)
        if length is not None and length.isdigit() and int(length) > limit:
            await too_large(scope, receive, send)
            return
        try:
            body = await self._read(receive, limit)
        except TooLarge:
            await too_large(scope, receive, send)
            return
        if body is None:
            return
        if is_json(scope):
            try:
                check_json(body)
            except BodyProblem as problem:
                await refusal(bad_body_status(scope["path"]), str(problem),
                              loc=["body"])(scope, receive, send)
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

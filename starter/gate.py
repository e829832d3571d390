"""The service's front door, a pure ASGI middleware: limits and credentials are checked before any
work is done for a request.

For each route it knows (:class:`Rule`):

1. a declared ``Content-Length`` above the route's limit is **413** at once, nothing read;
2. the credentials are checked from the headers and the URL alone — the API's bearer key
   (**401**); for Twilio's webhooks, valid Basic credentials, the Event Streams signature (it
   covers the URL, which carries the body's SHA-256) or, for a bundle callback, the presence of a
   signature and the URL's token (**403**) — before the body is read, so a stranger's body is
   never read at all. When the headers cannot decide (an Event Streams signature that is not the
   parent account's may be one of its subaccounts', named in the body), the check asks for a
   bounded prefix of the body (:class:`Peek`) and decides from it, the rest still unread;
3. the body is read while it streams, up to the limit (**413** past it, the connection closed
   without reading the rest), and, for JSON, refused when nested deeper than ``max_depth``
   (**400**) before anyone parses it;
4. the app gets the buffered body.

Only then does the app run: what needs the whole body (a form's signature, the body's SHA-256) is
checked there, before it is parsed. Also here: CORS headers on ``/codec`` alone (the Web UI's
codec server), and the webhook counters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KiB, MiB = 1024, 1024 * 1024
MAX_JSON_DEPTH = 32

# (status, error body, extra headers) when refused; None when the headers are acceptable.
Refusal = tuple[int, dict[str, Any], dict[str, str]] | None


@dataclass(frozen=True)
class Peek:
    """A check's answer when the headers cannot decide: ``decide`` is given the body's first
    ``size`` bytes (fewer if the body is shorter) and answers a refusal or None (go on)."""

    size: int
    decide: Callable[[bytes], Awaitable[Refusal]]


# The request's headers and URL (its body is not readable through it); what the check learns for
# the app (who signed) it leaves in ``request.state``.
Check = Callable[[Request], "Refusal | Peek"]


@dataclass(frozen=True)
class Rule:
    """A route (``path`` exactly, or every path under it when it ends in ``/``): the most its body
    may hold, who may send it, whether it is JSON to check the depth of."""

    path: str
    max_body: int
    check: Check | None = None
    json: bool = False

    def matches(self, path: str) -> bool:
        return path.startswith(self.path) if self.path.endswith("/") else path == self.path


class Gate:
    """See the module's doc. ``rules``: the first that matches a path applies; other paths get
    ``default_max_body``. ``on_response(path, status)``: called for every response (metrics)."""

    def __init__(self, app: ASGIApp, rules: list[Rule], *, default_max_body: int = 16 * KiB,
                 cors_prefix: str | None = None, cors: dict[str, Any] | None = None,
                 on_response: Callable[[str, int], None] | None = None) -> None:
        self.app, self.rules, self.default_max_body = app, rules, default_max_body
        self.cors_prefix = cors_prefix
        self.cors_app = CORSMiddleware(app, **cors) if cors is not None and cors_prefix else None
        self.on_response = on_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if self.on_response is not None:
            send = self._observed(path, send)
        app = self.cors_app if self.cors_app is not None and path.startswith(self.cors_prefix or "\0") else self.app
        rule = next((r for r in self.rules if r.matches(path)), None)
        limit = rule.max_body if rule else self.default_max_body
        headers = Headers(scope=scope)

        declared = headers.get("content-length")
        if declared is not None and (not declared.isascii() or not declared.isdigit()):
            await _answer(send, 400, {"error": "invalid Content-Length"}, close=True)
            return
        if declared is not None and int(declared) > limit:
            await _answer(send, 413, _too_large(limit), close=True)
            return
        reader = _Reader(receive, limit)
        if rule is not None and rule.check is not None and scope["method"] != "OPTIONS":
            outcome = rule.check(Request(scope))
            if isinstance(outcome, Peek):
                await reader.read(outcome.size)
                if reader.gone or reader.too_large:
                    await _answer(send, *((400, {"error": "the client went away"}) if reader.gone else
                                          (413, _too_large(limit))), close=True)
                    return
                outcome = await outcome.decide(b"".join(reader.chunks)[:outcome.size])
            if outcome is not None:
                status, refusal_body, extra = outcome
                await _answer(send, status, refusal_body, extra, close=not reader.ended and _unread_is_large(headers))
                return
        await reader.read()
        if reader.gone:
            await _answer(send, 400, {"error": "the client went away"}, close=True)
            return
        if reader.too_large:
            await _answer(send, 413, _too_large(limit), close=True)
            return
        body = b"".join(reader.chunks)
        if rule is not None and rule.json and body and too_deep(body, MAX_JSON_DEPTH):
            await _answer(send, 400, {"error": f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"})
            return
        await app(scope, _replay(body, receive), send)

    def _observed(self, path: str, send: Send) -> Send:
        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                try:
                    self.on_response(path, message["status"])  # type: ignore[misc]
                except Exception:  # noqa: BLE001 - metrics never break a response
                    pass
            await send(message)

        return observed


DRAIN_LIMIT = 64 * KiB  # a refused body up to this size is left to the server to discard (keep-alive)


def _unread_is_large(headers: Headers) -> bool:
    """Whether a refused request's body is too large (or of unknown size) to let the server drain
    it: then the connection is closed instead. A small one is discarded, and the client reads its
    answer without a connection reset."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return True
    return int(headers.get("content-length", "0")) > DRAIN_LIMIT


def _too_large(limit: int) -> dict[str, Any]:
    return {"error": f"the body is larger than this endpoint accepts ({limit} bytes)"}


class _Reader:
    """The body, read as it streams and only as far as asked, never past ``limit``: ``chunks`` so
    far; ``ended`` (all of it is in), ``too_large`` (it exceeded the limit: what was read is
    dropped, the rest is never read) or ``gone`` (the client disconnected)."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive, self.limit = receive, limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.ended = self.too_large = self.gone = False

    async def read(self, until: int | None = None) -> None:
        """Read until ``until`` bytes are in (None: the whole body), or it ends or fails."""
        while not (self.ended or self.too_large or self.gone) and (until is None or self.size < until):
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.gone = True
                return
            chunk = message.get("body", b"")
            self.size += len(chunk)
            if self.size > self.limit:
                self.chunks, self.too_large = [], True
                return
            if chunk:
                self.chunks.append(chunk)
            if not message.get("more_body", False):
                self.ended = True


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # the disconnect, when it comes

    return replay


async def _answer(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None, *,
                  close: bool = False) -> None:
    """A JSON answer; ``close``: the connection is closed after it (the body was not read)."""
    content = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(body: bytes, max_depth: int) -> bool:
    """Whether the JSON text nests arrays/objects deeper than ``max_depth`` (brackets inside
    strings do not count); cheap and never recursive, so it runs before any parser."""
    depth = 0
    for b in _STRING.sub(b'""', body).translate(None, _NOT_BRACKETS):
        if b in b"[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


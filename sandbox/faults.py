"""Fault injection and request statistics, as one ASGI middleware in front of the Twilio API paths
(everything outside ``/sandbox/``).

``POST /sandbox/faults`` sets (all optional; ``{}`` switches everything off):

* ``latency_ms`` (+ ``latency_jitter_ms``) — delay before each matching request is handled (its
  body read first); a client that hangs up meanwhile is counted (``client_gone``), and the request
  is then handled all the same, as a server that had received it may;
* ``rate_429`` — fraction answered ``429`` / code 20429 with ``Retry-After`` (never processed);
* ``rate_500`` — fraction answered ``500`` / code 20500 (never processed);
* ``drop_after_commit`` — fraction of POSTs (creates and updates) that ARE processed and committed,
  whose response is then cut off mid-body (the declared Content-Length is not met and the
  connection is closed): ``requests`` raises ``ChunkedEncodingError``, aiohttp ``ClientPayloadError``.
  Only successful (2xx) responses are dropped;
* ``concurrency_limit`` — more in-flight requests than this for one account -> 429 / 20429;
* ``seed`` — seeds the fault RNG, so a run is reproducible;
* ``path_regex`` — only paths matching this regex (``re.search``) get faults; ``methods`` likewise;
* ``account_sid`` — these faults only for the requests that account authenticates (one customer's
  calls held while the others go on); they replace the sandbox-wide faults for that account, and
  ``{"account_sid": ...}`` alone clears them. Without it, the sandbox-wide faults are replaced.

Every injected fault is counted in ``GET /sandbox/stats`` under ``faults``. The requests of each
authenticating account are also kept in order (``GET /sandbox/requests?account_sid=``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections import Counter, defaultdict, deque
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import errors
from .web import basic_auth, path_template

if TYPE_CHECKING:
    from .core import Sandbox


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(0, ge=0)
    latency_jitter_ms: float = Field(0, ge=0)
    rate_429: float = Field(0, ge=0, le=1)
    rate_500: float = Field(0, ge=0, le=1)
    drop_after_commit: float = Field(0, ge=0, le=1)
    concurrency_limit: int | None = Field(None, ge=1)
    seed: int | None = None
    path_regex: str | None = None
    methods: list[str] | None = None
    account_sid: str | None = None

    @field_validator("path_regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            re.compile(v)
        return v

    @field_validator("methods")
    @classmethod
    def _upper(cls, v: list[str] | None) -> list[str] | None:
        return [m.upper() for m in v] if v is not None else None


class Faults:
    def __init__(self) -> None:
        self.config = FaultConfig()
        self.by_account: dict[str, FaultConfig] = {}
        self.rng = random.Random()
        self.counts: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()

    def set(self, config: FaultConfig) -> None:
        if config.account_sid is None:
            self.config = config
        elif config.model_dump(exclude={"account_sid"}) == FaultConfig().model_dump(exclude={"account_sid"}):
            self.by_account.pop(config.account_sid, None)
        else:
            self.by_account[config.account_sid] = config
        self.rng = random.Random(config.seed)

    def clear(self) -> None:
        self.set(FaultConfig())
        self.by_account.clear()
        self.counts.clear()

    def config_for(self, account: str | None) -> FaultConfig:
        return self.by_account.get(account or "", self.config)

    @staticmethod
    def applies(cfg: FaultConfig, method: str, path: str) -> bool:
        if cfg.methods is not None and method not in cfg.methods:
            return False
        return cfg.path_regex is None or re.search(cfg.path_regex, path) is not None


class Stats:
    """Requests by endpoint and status, in all and per authenticating account (the Basic auth
    username: a customer's subaccount when the product acts for it); and each account's requests in
    the order they were answered, with when each was received and answered (sandbox clock, epoch
    seconds; the last :attr:`LOG_LENGTH`)."""

    LOG_LENGTH = 2000

    def __init__(self) -> None:
        self.requests: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_account: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        self.logs: dict[str, deque[tuple[str, str, int, float, float]]] = defaultdict(
            lambda: deque(maxlen=self.LOG_LENGTH))

    def record(self, method: str, path: str, status: int, account: str | None = None,
               received: float = 0.0, answered: float = 0.0) -> None:
        key = f"{method} {path_template(path)}"
        self.requests[key][str(status)] += 1
        if account:
            self.by_account[account][key][str(status)] += 1
            self.logs[account].append((method, path, status, received, answered))

    def clear(self) -> None:
        self.requests.clear()
        self.by_account.clear()
        self.logs.clear()

    def log(self, account: str) -> list[dict[str, Any]]:
        return [{"endpoint": f"{method} {path_template(path)}", "path": path, "status": status,
                 "received": round(received, 3), "answered": round(answered, 3)}
                for method, path, status, received, answered in self.logs.get(account, ())]

    def snapshot(self, account: str | None = None) -> dict[str, dict[str, int]]:
        requests = self.requests if account is None else self.by_account.get(account, {})
        return {key: dict(counter) for key, counter in sorted(requests.items())}


class DroppedResponse(Exception):
    """Raised after a deliberately truncated response so that the server closes the connection."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, DroppedResponse):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


async def _send_error(scope: dict, send: Any, error: errors.ApiError) -> None:
    async def no_body() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    await error.response()(scope, no_body, send)


class FaultMiddleware:
    """Counts every API request by method + path template, and injects the configured faults."""

    def __init__(self, app: Any, sandbox: "Sandbox"):
        self.app = app
        self.sb = sandbox

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/sandbox"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        status = {"code": 500}

        async def counting_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        credentials = basic_auth(dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1"))
        account = credentials[0] if credentials else None
        cfg = self.sb.faults.config_for(account)
        received = self.sb.now()
        try:
            if not Faults.applies(cfg, method, path):
                await self.app(scope, receive, counting_send)
                return
            await self._faulty(scope, receive, counting_send, method, cfg, account or "-")
        finally:
            self.sb.stats.record(method, path, status["code"], account, received, self.sb.now())

    async def _faulty(self, scope: dict, receive: Any, send: Any, method: str, cfg: FaultConfig, account: str) -> None:
        faults = self.sb.faults
        if cfg.concurrency_limit is not None and faults.in_flight[account] >= cfg.concurrency_limit:
            faults.counts["concurrency_429"] += 1
            await _send_error(scope, send, errors.too_many_requests(
                f"Too many concurrent requests: the limit is {cfg.concurrency_limit} per account"))
            return
        faults.in_flight[account] += 1
        try:
            if cfg.latency_ms or cfg.latency_jitter_ms:
                faults.counts["latency"] += 1
                receive = await self._delayed(receive, (cfg.latency_ms + faults.rng.uniform(0, cfg.latency_jitter_ms)) / 1000)
                if receive is None:  # gone before its request was whole: nothing to handle
                    return
            roll = faults.rng.random()
            if roll < cfg.rate_429:
                faults.counts["rate_429"] += 1
                await _send_error(scope, send, errors.too_many_requests())
                return
            if roll < cfg.rate_429 + cfg.rate_500:
                faults.counts["rate_500"] += 1
                await _send_error(scope, send, errors.internal())
                return
            if method == "POST" and cfg.drop_after_commit and faults.rng.random() < cfg.drop_after_commit:
                await self._drop_after_commit(scope, receive, send)
                return
            await self.app(scope, receive, send)
        finally:
            faults.in_flight[account] -= 1

    async def _delayed(self, receive: Any, seconds: float) -> Any | None:
        """Wait ``seconds`` with the request's body read, watching the client: one that hangs up
        meanwhile is counted. Returns the ``receive`` that hands the body on to the app (None: the
        client hung up before its request was whole)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        messages: list[dict] = []
        while not messages or (messages[-1]["type"] == "http.request" and messages[-1].get("more_body")):
            messages.append(await receive())
        if messages[-1]["type"] == "http.disconnect":
            self.sb.faults.counts["client_gone"] += 1
            return None
        try:  # the body is in: the next message can only be the client hanging up
            if (await asyncio.wait_for(receive(), seconds))["type"] == "http.disconnect":
                self.sb.faults.counts["client_gone"] += 1
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(max(0.0, until - loop.time()))

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()
        return replay

    async def _drop_after_commit(self, scope: dict, receive: Any, send: Any) -> None:
        messages: list[dict] = []

        async def capture(message: dict) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        if not 200 <= start["status"] < 300 or len(body) < 2:
            for message in messages:
                await send(message)
            return
        self.sb.faults.counts["drop_after_commit"] += 1
        self.sb.store.commit()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        raise DroppedResponse("response dropped after commit (sandbox fault injection)")

"""Outgoing webhooks: Trust Hub bundle status callbacks and Event Streams CloudEvents.

Both are signed like Twilio's, with the auth token of the account they belong to:

* status callback — a form POST (``AccountSid``, ``BundleSid``, ``Status``, ``FailureReason``) with
  ``X-Twilio-Signature = RequestValidator(token).compute_signature(url, params)``;
* Event Streams — a JSON array of CloudEvents; ``bodySHA256=<hex sha256 of the body>`` is appended to
  the sink URL's query and ``X-Twilio-Signature = compute_signature(full_url, {})`` (so
  ``RequestValidator(token).validate(full_url, body, signature)`` accepts it).

Each delivery carries ``I-Twilio-Idempotency-Token`` (the same on every attempt). Status callbacks
of one bundle, and events to one sink, are sent one at a time in the order they happened. Deliveries are
scheduler events (so they survive a restart with ``--db``); a non-2xx answer or a connection error
is retried ``webhook_max_attempts`` times in all, waiting ``webhook_initial_backoff_seconds`` and then
``webhook_backoff_multiplier`` times longer each time. ``GET /sandbox/webhooks`` shows the attempts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections import Counter, deque
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from twilio.request_validator import RequestValidator

from .clock import iso

if TYPE_CHECKING:
    from .core import Sandbox

log = logging.getLogger("sandbox.webhooks")

EVENT_TYPE_PREFIX = "com.twilio.messaging.compliance."
DATASCHEMA = "https://events-schemas.twilio.com/A2P.{name}/1"


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit(parts._replace(query=query))


class Webhooks:
    def __init__(self, sb: "Sandbox"):
        self.sb = sb
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()
        # Deliveries about one resource go out in order: one lock per resource, with a user count.
        self._order: dict[str, tuple[asyncio.Lock, int]] = {}
        self.attempts: deque[dict] = deque(maxlen=5000)
        self.counts: Counter[str] = Counter()
        sb.scheduler.register("webhook", self._due)

    # ---- what to send ------------------------------------------------------------------------
    def status_callback(self, bundle: dict) -> None:
        url = bundle.get("status_callback")
        if not url:
            return
        params = {
            "AccountSid": bundle["account_sid"],
            "BundleSid": bundle["sid"],
            "Status": bundle["status"],
            "FailureReason": bundle.get("failure_reason") or "",
        }
        self._enqueue({"type": "form", "url": url, "params": params, "account_sid": bundle["account_sid"],
                       "key": bundle["sid"], "what": f"status-callback {bundle['sid']} {bundle['status']}"})

    def sink_for(self, account_sid: str) -> tuple[str, str] | None:
        """``(sink_url, owner_account_sid)`` for events of ``account_sid``: its own sink, else its
        parent's, else the sandbox-wide sink (owned by the parent account)."""
        sinks: dict[str, str] = self.sb.store.get_meta("event_sinks", {})
        account = self.sb.store.get("accounts", account_sid) or {}
        for owner in (account_sid, account.get("parent_sid")):
            if owner and sinks.get(owner):
                return sinks[owner], owner
        if self.sb.config.event_sink_url:
            return self.sb.config.event_sink_url, self.sb.parent_sid
        return None

    def cloud_event(self, account_sid: str, event_type: str, schema: str, source: str, data: dict) -> None:
        sink = self.sink_for(account_sid)
        if sink is None:
            return
        url, owner = sink
        event = {
            "specversion": "1.0",
            "type": EVENT_TYPE_PREFIX + event_type,
            "source": source,
            "id": "EZ" + uuid.uuid4().hex,
            "time": iso(self.sb.now()).replace("Z", ".000Z"),
            "datacontenttype": "application/json",
            "dataschema": DATASCHEMA.format(name=schema),
            "data": data,
        }
        self._enqueue({"type": "json", "url": url, "body": [event], "account_sid": owner,
                       "key": url, "what": f"event {event_type} {source}"})

    # ---- delivery ----------------------------------------------------------------------------
    def _enqueue(self, delivery: dict) -> None:
        delivery.update(id="WH" + uuid.uuid4().hex, attempt=1)
        self.counts["enqueued"] += 1
        self.sb.scheduler.schedule("webhook", 0, delivery)

    def _due(self, delivery: dict) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (e.g. a synchronous unit test): try again on the next pass
            self.sb.scheduler.schedule("webhook", self.sb.config.scheduler_interval_seconds, delivery)
            return
        task = loop.create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _request(self, delivery: dict) -> tuple[str, bytes, dict[str, str]]:
        validator = RequestValidator(self.sb.account_token(delivery["account_sid"]) or "")
        headers = {"I-Twilio-Idempotency-Token": delivery["id"], "User-Agent": "TwilioProxy/1.1 (a2p-sandbox)"}
        if delivery["type"] == "form":
            url, params = delivery["url"], delivery["params"]
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-Twilio-Signature"] = validator.compute_signature(url, params)
            return url, urlencode(params).encode(), headers
        body = json.dumps(delivery["body"], separators=(",", ":")).encode()
        url = with_query(delivery["url"], bodySHA256=hashlib.sha256(body).hexdigest())
        headers["Content-Type"] = "application/json"
        headers["X-Twilio-Signature"] = validator.compute_signature(url, {})
        return url, body, headers

    async def _deliver(self, delivery: dict) -> None:
        key = delivery.get("key") or delivery["id"]
        lock, users = self._order.get(key, (asyncio.Lock(), 0))
        self._order[key] = (lock, users + 1)
        try:
            async with lock:
                await self._attempt(delivery)
        finally:
            lock, users = self._order[key]
            if users == 1:
                del self._order[key]
            else:
                self._order[key] = (lock, users - 1)

    async def _attempt(self, delivery: dict) -> None:
        cfg = self.sb.config
        url, content, headers = self._request(delivery)
        record = {"id": delivery["id"], "what": delivery["what"], "url": url, "attempt": delivery["attempt"],
                  "at": iso(self.sb.now()), "status_code": None, "error": None, "ok": False}
        try:
            response = await self._http().post(url, content=content, headers=headers,
                                               timeout=cfg.webhook_timeout_seconds)
            record["status_code"] = response.status_code
            record["ok"] = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        self.attempts.append(record)
        self.counts["delivered" if record["ok"] else "failed_attempts"] += 1
        if record["ok"]:
            return
        if delivery["attempt"] >= cfg.webhook_max_attempts:
            self.counts["gave_up"] += 1
            log.warning("gave up on webhook %s to %s after %d attempts", delivery["what"], url, delivery["attempt"])
            return
        wait = cfg.webhook_initial_backoff_seconds * cfg.webhook_backoff_multiplier ** (delivery["attempt"] - 1)
        self.sb.scheduler.schedule("webhook", wait, dict(delivery, attempt=delivery["attempt"] + 1))
        self.sb.store.commit()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(limits=httpx.Limits(max_connections=200))
        return self._client

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def reset(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.attempts.clear()
        self.counts.clear()

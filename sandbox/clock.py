"""Sandbox time and the scheduler of due events.

* :class:`SandboxClock` — real time plus an offset that only grows (``POST /sandbox/clock/advance``).
  Every delay, review and expiry of the sandbox is measured on it.
* :class:`Scheduler` — named events (``kind`` + JSON payload) due at a sandbox time. They are stored
  in the :class:`~sandbox.store.Store` (kind ``events``), so they survive a restart with ``--db``.
  A background task runs due events every ``scheduler_interval_seconds``; advancing the clock runs
  everything then due before answering. Handlers are plain synchronous functions, run on the event
  loop one at a time, in due order; an event a handler schedules that is already due runs in the
  same pass.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Callable

from .store import Store

log = logging.getLogger("sandbox.scheduler")


class SandboxClock:
    def __init__(self, offset: float = 0.0):
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += seconds


def iso(ts: float | None) -> str | None:
    """ISO 8601 as Trust Hub and Messaging write it: ``2024-01-01T00:00:00Z``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc2822(ts: float | None) -> str | None:
    """RFC 2822 as API v2010 writes it: ``Tue, 18 Aug 2015 17:07:30 +0000``."""
    if ts is None:
        return None
    return format_datetime(datetime.fromtimestamp(int(ts), timezone.utc))


Handler = Callable[[dict], Any]


class Scheduler:
    def __init__(self, clock: SandboxClock, store: Store, interval: float = 0.05):
        self.clock = clock
        self.store = store
        self.interval = interval
        self._handlers: dict[str, Handler] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._counter = 0
        self._task: asyncio.Task | None = None
        self.runs = 0
        self.failures = 0
        self.reload()

    def reload(self) -> None:
        """Rebuild the heap from the stored events (after start-up or reset)."""
        self._heap = []
        for event in self.store.all("events"):
            self._push(event)

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    def schedule(self, kind: str, delay: float, payload: dict | None = None) -> str:
        return self.schedule_at(kind, self.clock.now() + max(0.0, delay), payload)

    def schedule_at(self, kind: str, due: float, payload: dict | None = None) -> str:
        event = {"sid": "EV" + uuid.uuid4().hex, "kind": kind, "due": due, "payload": payload or {}}
        self.store.put("events", event)
        self._push(event)
        return event["sid"]

    def cancel(self, event_id: str | None) -> bool:
        return bool(event_id) and self.store.delete("events", event_id) is not None

    def pending(self, kind: str | None = None) -> list[dict]:
        return sorted(
            (e for e in self.store.all("events") if kind is None or e["kind"] == kind), key=lambda e: e["due"]
        )

    def next_due(self) -> float | None:
        while self._heap and self.store.get("events", self._heap[0][2]) is None:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def run_due(self) -> int:
        """Run every event due now (including ones scheduled by handlers meanwhile); return how many."""
        ran = 0
        while self._heap and self._heap[0][0] <= self.clock.now():
            _, _, event_id = heapq.heappop(self._heap)
            event = self.store.delete("events", event_id)
            if event is None:  # cancelled
                continue
            handler = self._handlers.get(event["kind"])
            ran += 1
            self.runs += 1
            if handler is None:
                log.warning("no handler for sandbox event %s", event["kind"])
                continue
            try:
                handler(event["payload"])
            except Exception:  # a broken handler must not stop the sandbox
                self.failures += 1
                log.exception("sandbox event %s failed", event["kind"])
        if ran:
            self.store.commit()
        return ran

    def _push(self, event: dict) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (event["due"], self._counter, event["sid"]))

    # ---- background loop ---------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run_forever(), name="sandbox-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run_forever(self) -> None:
        while True:
            try:
                self.run_due()
            except Exception:
                log.exception("sandbox scheduler pass failed")
            await asyncio.sleep(self.interval)

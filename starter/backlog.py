"""Starts that wait for the workers: a batch of thousands must not land on them at once."""

from __future__ import annotations

import asyncio
import time

from temporalio.client import Client

from a2p import search_attributes as sa
from a2p.progress import Phase
from starter import registrations


class StartGate:
    """Starts wait while the workers are busy: while ``limit`` or more registrations are running in
    a phase where they keep workers busy (just started, building their bundles, setting up their
    campaign — not those waiting for a review or for the customer), a start waits. Without it a
    batch of thousands lands on the workers at once: their workflow tasks queue for tens of seconds,
    overrun the 10 s workflow task timeout, retry, and overrun again. One visibility count per
    ``interval`` is shared by all waiting starts."""

    BUSY = (Phase.STARTED, Phase.CUSTOMER_PROFILE, Phase.TRUST_BUNDLE, Phase.CAMPAIGN)
    QUERY = (registrations.visibility_query() + " AND ExecutionStatus = 'Running' AND "
             f"{sa.PHASE.name} IN ({', '.join(repr(p.value) for p in BUSY)})")

    def __init__(self, client: Client, limit: int, interval: float = 1.0) -> None:
        self.client, self.limit, self.interval = client, limit, interval
        self._lock = asyncio.Lock()
        self._counted_at = float("-inf")
        self._waiting = 0
        self.waits = 0  # how many times a start had to wait (reported by soaks)

    async def _backlog(self) -> int:
        async with self._lock:
            if time.monotonic() - self._counted_at >= self.interval:
                self._waiting = (await self.client.count_workflows(self.QUERY)).count
                self._counted_at = time.monotonic()
            self._waiting += 1  # this start, until the next count sees it
            return self._waiting

    async def wait(self) -> None:
        """Return once a start may go ahead."""
        waited = False
        while await self._backlog() > self.limit:
            async with self._lock:
                self._waiting -= 1
            waited = True
            await asyncio.sleep(self.interval)
        self.waits += waited

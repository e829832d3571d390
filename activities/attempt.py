"""How long the current activity attempt is still alive at Temporal — and so may still talk to
Twilio.

A retried create looks before it creates (activities/lookup.py). That is sound only if the earlier
attempt's request cannot land at Twilio after the retry has looked. Temporal gives up on an
attempt at its start-to-close deadline, or when it has not heard a heartbeat for its heartbeat
timeout, and schedules the retry at least one retry interval later; but the attempt's worker does
not know that it was given up on until a heartbeat is answered. A worker whose event loop lagged
(a restart replaying many registrations on a busy machine) or whose requests queued for a slot
would otherwise send its create after the deadline — while, or after, the retry looked and found
nothing: two bundles.

So every Twilio request (activities/twilio_client.py) asks :func:`request_timeout` first: it is
sent only while at least :func:`send_margin` of the attempt is left, and its answer is awaited
until half a margin before the attempt ends, so that the activity itself reports a request with
no answer and says when to retry it (activities/errors.py: a write, no sooner than as long again as
it was given). A request is therefore on its way at least the margin plus a retry interval before
any retry can look. The deadline is Temporal's (the attempt's start time on
the server plus its start-to-close) read against this machine's clock: worker and server clocks
are assumed synchronised (NTP) to well within the margin.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from temporalio import activity

R = TypeVar("R")


@dataclass
class _Attempt:
    deadline: float | None         # time.time() at which Temporal times the attempt out (start-to-close)
    heartbeat_timeout: float       # seconds
    last_beat: float               # time.monotonic() of the last heartbeat (or the attempt's start)
    margin: float


class AttemptExpiring(asyncio.TimeoutError):
    """A request not sent: too little of the attempt is left (retried like any timeout)."""


_ATTEMPT: ContextVar[_Attempt | None] = ContextVar("a2p_activity_attempt", default=None)


def send_margin(start_to_close: float | None, heartbeat_timeout: float) -> float:
    """How much of the attempt must be left to send a request: a tenth of its start-to-close,
    from one to three seconds, and at most half its heartbeat timeout (each heartbeat renews that
    much of the attempt's life)."""
    return min(max(1.0, min((start_to_close or 0.0) / 10, 3.0)), heartbeat_timeout / 2)


def request_timeout(configured: float) -> float:
    """How long a request sent now may be awaited: ``configured``, outside an attempt that
    heartbeats (a test's direct call, the service); inside one, cut to end half a margin before
    the attempt does, so that the activity itself reports a request that got no answer (and when
    to retry, activities/errors.py). Raises :class:`AttemptExpiring` when less than a margin of
    the attempt is left: send nothing."""
    attempt = _ATTEMPT.get()
    if attempt is None:
        return configured
    # Heartbeats (every tenth of the timeout while the loop runs) renew the attempt: they bound
    # whether it is alive now, the start-to-close how long it can last.
    alive = attempt.last_beat + attempt.heartbeat_timeout - time.monotonic()
    lasts = attempt.deadline - time.time() if attempt.deadline is not None else configured + attempt.margin
    if min(alive, lasts) < attempt.margin:
        raise AttemptExpiring(
            f"request not sent: {max(min(alive, lasts), 0.0):.1f} s of this attempt left at Temporal, a request "
            f"needs {attempt.margin:.1f} s (the retry looks for what an earlier attempt made before it creates)")
    return min(configured, lasts - attempt.margin / 2)


async def heartbeating(call: Awaitable[R]) -> R:
    """Await ``call`` while telling Temporal, every tenth of the activity's heartbeat timeout, that
    it is alive. Temporal's answer to a heartbeat carries a cancel (or says the registration has
    ended): the SDK then cancels this task, and with it the HTTP request in flight. Meanwhile
    :func:`request_timeout` tells the call's requests how long the attempt lives."""
    info = activity.info()
    timeout = info.heartbeat_timeout
    if not timeout:  # scheduled before calls heartbeat
        return await call
    started = info.started_time.timestamp()
    start_to_close = info.start_to_close_timeout.total_seconds() if info.start_to_close_timeout else None
    attempt = _Attempt(
        deadline=started + start_to_close if start_to_close else None,
        heartbeat_timeout=timeout.total_seconds(),
        # Temporal's heartbeat clock runs from the attempt's start: count the time it took to get here.
        last_beat=time.monotonic() - max(0.0, time.time() - started),
        margin=send_margin(start_to_close, timeout.total_seconds()),
    )

    async def beat() -> None:
        while True:
            await asyncio.sleep(timeout.total_seconds() / 10)
            activity.heartbeat()
            attempt.last_beat = time.monotonic()

    beats = asyncio.create_task(beat())
    token = _ATTEMPT.set(attempt)
    try:
        return await call
    finally:
        _ATTEMPT.reset(token)
        beats.cancel()

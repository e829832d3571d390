"""What the phases measure: a registration's history (its events and where its time went),
percentiles, sandbox statistics between two moments, and CPU seconds of the processes."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench import procs


# ---- histories -----------------------------------------------------------------------------------

E = EventType


@dataclass
class History:
    workflow_id: str
    events: int
    started: datetime
    closed: datetime | None
    steps: tuple[float, ...]              # 0 = activity, > 0 = timer seconds (the no-op's shape)
    activities: Counter
    workflow_tasks: int
    max_attempt: int                      # of any activity (1 = nothing was retried)
    retried_activities: int
    failed_activities: int                # failures/timeouts that reached the workflow
    signals: int
    types: Counter
    time: dict[str, float]                # where its time went (seconds), see analyse()

    @property
    def seconds(self) -> float | None:
        return (self.closed - self.started).total_seconds() if self.closed else None

    @property
    def timers(self) -> int:
        return sum(1 for s in self.steps if s > 0)


def analyse(workflow_id: str, events: list[Any]) -> History:
    """Counts, and where the time went: ``timers`` (as asked), ``timer_late`` (fired after their
    time), ``activities`` (scheduled -> completed: queueing + the Twilio call), ``wft_queue``
    (workflow task scheduled -> picked up by the worker), ``wft_run`` (picked up -> completed)."""
    steps: list[float] = []
    activities: Counter = Counter()
    types: Counter = Counter()
    max_attempt, retried, failed, wfts, signals = 1, 0, 0, 0, 0
    closed = None
    at: dict[int, float] = {}
    asked: dict[int, float] = {}
    spent = Counter({"timers": 0.0, "timer_late": 0.0, "activities": 0.0, "wft_queue": 0.0, "wft_run": 0.0})
    for ev in events:
        t = ev.event_type
        now = ev.event_time.ToDatetime(timezone.utc).timestamp()
        at[ev.event_id] = now
        types[E.Name(t).removeprefix("EVENT_TYPE_")] += 1
        if t == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            steps.append(0.0)
            activities[ev.activity_task_scheduled_event_attributes.activity_type.name] += 1
        elif t == E.EVENT_TYPE_TIMER_STARTED:
            duration = ev.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
            steps.append(duration)
            asked[ev.event_id] = duration
        elif t == E.EVENT_TYPE_TIMER_FIRED:
            started = ev.timer_fired_event_attributes.started_event_id
            spent["timers"] += asked.get(started, 0.0)
            spent["timer_late"] += now - at.get(started, now) - asked.get(started, 0.0)
        elif t == E.EVENT_TYPE_TIMER_CANCELED:
            spent["timers"] += now - at.get(ev.timer_canceled_event_attributes.started_event_id, now)
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attempt = ev.activity_task_started_event_attributes.attempt
            max_attempt = max(max_attempt, attempt)
            retried += attempt > 1
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            spent["activities"] += now - at.get(ev.activity_task_completed_event_attributes.scheduled_event_id, now)
        elif t in (E.EVENT_TYPE_ACTIVITY_TASK_FAILED, E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT):
            failed += 1
        elif t == E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            wfts += 1
            spent["wft_queue"] += now - at.get(ev.workflow_task_started_event_attributes.scheduled_event_id, now)
        elif t == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            spent["wft_run"] += now - at.get(ev.workflow_task_completed_event_attributes.started_event_id, now)
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signals += 1
        elif t in (E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
                   E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED):
            closed = ev.event_time.ToDatetime(timezone.utc)
    return History(workflow_id=workflow_id, events=len(events), started=events[0].event_time.ToDatetime(timezone.utc),
                   closed=closed, steps=tuple(round(s, 6) for s in steps), activities=activities,
                   workflow_tasks=wfts, max_attempt=max_attempt, retried_activities=retried,
                   failed_activities=failed, signals=signals, types=types, time=dict(spent))


def time_split(hs: list[History]) -> dict[str, float]:
    """The median registration's time, by where it went."""
    return {key: median([h.time[key] for h in hs]) for key in hs[0].time} if hs else {}


async def histories(client: Client, workflow_ids: list[str]) -> list[History]:
    sem = asyncio.Semaphore(32)

    async def one(wid: str) -> History:
        async with sem:
            history = await client.get_workflow_handle(wid).fetch_history()
        return analyse(wid, list(history.events))

    return list(await asyncio.gather(*(one(w) for w in workflow_ids)))


# ---- figures -------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def stats_delta(after: dict, before: dict) -> dict[str, dict[str, int]]:
    """Sandbox request counts by "METHOD /path/{Sid}" and status, after minus before."""
    out: dict[str, dict[str, int]] = {}
    for endpoint, statuses in after.get("requests", {}).items():
        prev = before.get("requests", {}).get(endpoint, {})
        diff = {code: n - prev.get(code, 0) for code, n in statuses.items() if n - prev.get(code, 0)}
        if diff:
            out[endpoint] = diff
    return out


def faults_delta(after: dict, before: dict) -> dict[str, int]:
    a, b = after.get("faults", {}), before.get("faults", {})
    return {k: v - b.get(k, 0) for k, v in a.items() if isinstance(v, int) and v - b.get(k, 0)}


class Meter:
    """CPU seconds of the given processes (and this one) between start and stop, wall time too."""

    def __init__(self, **pids: int | None) -> None:
        self.pids = pids
        self.cpu0 = {name: procs.cpu_seconds(pid) for name, pid in pids.items()}
        self.own0 = procs.own_cpu_seconds()
        self.t0 = time.monotonic()
        self.cpu: dict[str, float] = {}
        self.wall = 0.0

    def stop(self) -> "Meter":
        self.cpu = {name: procs.cpu_seconds(pid) - self.cpu0[name] for name, pid in self.pids.items()}
        self.cpu["bench"] = procs.own_cpu_seconds() - self.own0
        self.wall = time.monotonic() - self.t0
        return self

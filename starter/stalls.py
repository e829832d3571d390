"""Stalled registrations: running ones whose workflow task has waited for a worker, or sat with
one, for longer than ``A2P_STALL_AFTER_SECONDS`` (3x the 10 s workflow task timeout). A healthy
registration's workflow task takes milliseconds; one that waits this long gets no further by
itself — no worker polls its task queue, or a worker holds its task and never completes it.

* :func:`find_stalled` — running registrations from visibility, each described
  (``DescribeWorkflowExecution``'s pending workflow task); for ``a2p list --stalled`` and the
  service (:func:`stalled_rows`).
* :func:`watch_stalls` — the same every ``A2P_STALL_CHECK_INTERVAL_SECONDS``, counted in the gauge
  ``a2p_stalled_registrations`` (a2p/metrics.py), and each stall logged (``registration_stalled``).

Healing one (README, "Runbook"): ``temporal workflow reset --workflow-id ID --type LastWorkflowTask
--reason stalled``; the worker that held it fails its health check (worker/health.py) and is
restarted.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict
from temporalio.api.enums.v1 import PendingWorkflowTaskState
from temporalio.client import Client
from temporalio.common import MetricMeter

from a2p import metrics
from infra.settings import Settings, TemporalSettings
from starter import registrations

DESCRIBE_CONCURRENCY = 10

log = structlog.get_logger("a2p.stalls")


class Stalled(BaseModel):
    """One stalled registration: its workflow task, and how long it has been stuck."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    run_id: str
    task_state: str           # SCHEDULED (no worker takes it) | STARTED (a worker holds it)
    attempt: int
    since: datetime           # first scheduled (SCHEDULED) or started (STARTED)
    stalled_for_seconds: float
    heal: str


def _stall(wf_id: str, run_id: str, pending: Any, now: datetime, bound: timedelta) -> Stalled | None:
    if pending.state == PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED:
        since, state = pending.started_time.ToDatetime(timezone.utc), "STARTED"
    elif pending.state == PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED:
        first = pending.original_scheduled_time if pending.HasField("original_scheduled_time") else None
        since = (first if first and first.seconds else pending.scheduled_time).ToDatetime(timezone.utc)
        state = "SCHEDULED"
    else:
        return None
    age = now - since
    if age <= bound:
        return None
    return Stalled(workflow_id=wf_id, run_id=run_id, task_state=state, attempt=pending.attempt, since=since,
                   stalled_for_seconds=round(age.total_seconds(), 1),
                   heal=f"temporal workflow reset --workflow-id {wf_id} --type LastWorkflowTask --reason stalled")


async def find_stalled(client: Client, *, stall_after: timedelta, limit: int = 10_000) -> list[Stalled]:
    """Running registrations whose workflow task has been scheduled or started for longer than
    ``stall_after`` (at most ``limit`` registrations are examined, oldest first by visibility)."""
    query = registrations.visibility_query() + " AND ExecutionStatus = 'Running'"
    gate = asyncio.Semaphore(DESCRIBE_CONCURRENCY)
    now = datetime.now(timezone.utc)

    async def examine(wf_id: str, run_id: str) -> Stalled | None:
        async with gate:
            try:
                desc = await client.get_workflow_handle(wf_id, run_id=run_id).describe()
            except Exception as err:  # noqa: BLE001 - it may have ended in between: not stalled
                log.debug("stall_check_skipped", workflow_id=wf_id, error=str(err))
                return None
        raw = desc.raw_description
        if not raw.HasField("pending_workflow_task"):
            return None
        return _stall(wf_id, run_id, raw.pending_workflow_task, now, stall_after)

    running = [(wf.id, wf.run_id) async for wf in client.list_workflows(query, limit=limit)]
    found = await asyncio.gather(*(examine(wf_id, run_id) for wf_id, run_id in running))
    return sorted((s for s in found if s is not None), key=lambda s: s.since)


async def stalled_rows(client: Client, settings: TemporalSettings) -> list[dict]:
    """What the CLI prints and the service can answer: the stalled registrations as JSON-ready dicts."""
    stalled = await find_stalled(client, stall_after=timedelta(seconds=settings.a2p_stall_after_seconds))
    return [s.model_dump(mode="json") for s in stalled]


async def watch_stalls(client: Client, settings: Settings, meter: MetricMeter) -> None:
    """Forever: look for stalled registrations, set ``a2p_stalled_registrations``, log each stall."""
    gauge = meter.create_gauge(metrics.STALLED_REGISTRATIONS,
                               "running registrations whose workflow task is stuck (scheduled or started too long)")
    while True:
        try:
            stalled = await find_stalled(client, stall_after=timedelta(seconds=settings.a2p_stall_after_seconds))
            gauge.set(len(stalled))
            for s in stalled:
                log.warning("registration_stalled", workflow_id=s.workflow_id, task_state=s.task_state,
                            attempt=s.attempt, stalled_for_seconds=s.stalled_for_seconds, heal=s.heal)
        except Exception as err:  # noqa: BLE001 - Temporal unreachable for a while: try again later
            log.warning("stall_check_failed", error=str(err))
        await asyncio.sleep(settings.a2p_stall_check_interval_seconds)

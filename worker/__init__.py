"""`python -m worker`: runs the registration workflows and the Twilio activities."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from infra.settings import Settings
from activities import TwilioClients, otp_activities, registration_activities
from a2p.constants import OTP_RESEND_RATE_PER_SECOND
from workflows import ALL_WORKFLOWS
from workflows.policies import HEARTBEAT_THROTTLE, OTP_TASK_QUEUE_SUFFIX
from worker.health import WatchedRunner, WorkflowTaskWatch, serving_health


# On SIGTERM, Twilio calls in flight get this long to finish (each is one HTTP request) before
# they are cancelled; a cancelled call is retried elsewhere, safely (creates look before creating).
GRACEFUL_SHUTDOWN = timedelta(seconds=10)

# Temporal's sandbox imports the workflow code afresh for each workflow run it caches and stops
# what would break determinism in it (wall clock, I/O, random, threads) at run time. Only our
# domain models (`a2p`: pydantic models, constants, no state) and pydantic are passed through,
# imported once per process. Workers, the replay tests and the benchmark's no-op use this runner.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("a2p"))


@contextlib.asynccontextmanager
async def running_worker(client: Client, settings: Settings, task_queue: str | None = None, *,
                         watch: WorkflowTaskWatch | None = None,
                         workflow_runner: WorkflowRunner = WORKFLOW_RUNNER) -> AsyncIterator[None]:
    """Run the workers of one task queue until the context exits, with the Twilio activities; with
    A2P_WORKER_HEALTH_BIND, their health served."""
    twilio = TwilioClients(settings)
    watch = watch or WorkflowTaskWatch(settings.a2p_stall_after_seconds)
    try:
        async with running_workers(client, task_queue or settings.temporal_task_queue,
                                   registration_activities(twilio), otp_activities(twilio), settings=settings,
                                   watch=watch, workflow_runner=workflow_runner), \
                serving_health(watch, settings.a2p_worker_health_bind):
            yield
    finally:
        await twilio.close()


def _sizing(settings: Settings | None, **overrides: Any) -> dict[str, Any]:
    """A worker takes no more than it can finish: a few workflow tasks at once (CPU-bound; each must
    finish within the 10 s workflow task timeout even when a burst of starts arrives), many Twilio
    calls (I/O-bound), few pollers; the rest waits in Temporal's task queue."""
    names = {"max_cached_workflows": "a2p_max_cached_workflows",
             "max_concurrent_workflow_tasks": "a2p_max_concurrent_workflow_tasks",
             "max_concurrent_workflow_task_polls": "a2p_workflow_task_pollers",
             "max_concurrent_activities": "a2p_max_concurrent_activities",
             "max_concurrent_activity_task_polls": "a2p_activity_task_pollers"}
    sizing = {arg: getattr(settings, name) if settings else Settings.model_fields[name].default
              for arg, name in names.items()}
    return sizing | overrides


@contextlib.asynccontextmanager
async def running_workers(client: Client, queue: str, activities: Sequence[Callable[..., Any]],
                          otp: Sequence[Callable[..., Any]], *, settings: Settings | None = None,
                          watch: WorkflowTaskWatch | None = None, workflow_runner: WorkflowRunner = WORKFLOW_RUNNER,
                          **sizing: Any) -> AsyncIterator[None]:
    """The workers of one task queue: workflows and Twilio calls on the main queue, OTP re-sends on
    a second queue that Temporal rate-limits to 10/s for ALL workers together (Twilio's limit per
    account). Activations are watched (worker/health.py). The workflow tests run these with fake
    activities under the same names."""
    runner = WatchedRunner(workflow_runner, watch) if watch else workflow_runner
    # Heartbeats of the calls in flight go out at most every HEARTBEAT_THROTTLE: a cancel reaches a
    # call that fast.
    main = Worker(client, task_queue=queue, workflows=ALL_WORKFLOWS, activities=activities,
                  workflow_runner=runner, graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
                  max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
                  default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE, **_sizing(settings, **sizing))
    otp_worker = Worker(client, task_queue=queue + OTP_TASK_QUEUE_SUFFIX, activities=otp,
                        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN, max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
                        default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
                        # Temporal's limiter lets short bursts through: stay at 80% of Twilio's limit.
                        max_task_queue_activities_per_second=OTP_RESEND_RATE_PER_SECOND * 0.8)
    tasks = [asyncio.create_task(w.run()) for w in (main, otp_worker)]
    try:
        yield
    finally:
        await asyncio.gather(main.shutdown(), otp_worker.shutdown(), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)

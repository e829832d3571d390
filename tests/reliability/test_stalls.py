"""Stalls are seen and healed: a registration whose workflow task no worker takes, or that a worker
holds and never completes, is listed as stalled (`a2p list --stalled`, the a2p_stalled_registrations
gauge); the worker holding one fails its health check; once workers take it again it is no longer
listed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

from starter import registrations
from local_stack.stack import free_port, sandbox_settings
from starter.stalls import find_stalled
from tests.factories import eventually
from tests.reliability.test_faults import own_sandbox, request_for
from worker import WORKFLOW_RUNNER, running_worker

pytestmark = pytest.mark.asyncio(loop_scope="session")

BOUND = timedelta(seconds=2)


async def stalled_ids(client) -> dict[str, str]:
    return {s.workflow_id: s.task_state for s in await find_stalled(client, stall_after=BOUND)}


async def a_customer(control, n: int):
    sub = (await control.create_subaccount())["sid"]
    number = await control.create_phone_number(account_sid=sub)
    return request_for(f"stall-{uuid.uuid4().hex[:6]}", sub, number["sid"], n)


async def test_a_registration_no_worker_takes_is_listed_until_a_worker_takes_it(temporal_env):
    client = temporal_env.client
    async with own_sandbox() as (proc, control):
        settings = sandbox_settings(proc.base_url, client.service_client.config.target_host)
        request = await a_customer(control, 1)
        queue = f"stall-{uuid.uuid4().hex[:6]}"  # no worker polls it yet
        await registrations.start_registration(client, settings, request, task_queue=queue)
        await eventually(lambda: _has(client, request.workflow_id, "SCHEDULED"), 30, "a workflow task scheduled", 0.5)
        listed = {s["workflow_id"]: s for s in await a2p_list_stalled(settings)}
        assert listed[request.workflow_id]["task_state"] == "SCHEDULED"
        assert listed[request.workflow_id]["heal"].startswith(
            f"temporal workflow reset --workflow-id {request.workflow_id} ")
        async with running_worker(client, settings, task_queue=queue):
            await eventually(lambda: _gone(client, request.workflow_id), 30, "the stall gone", 0.5)
        await client.get_workflow_handle(request.workflow_id).terminate("test done")


async def a2p_list_stalled(settings) -> list[dict]:
    """What an operator sees: `a2p list --stalled`, run as a command against the same server."""
    env = dict(os.environ, TEMPORAL_ADDRESS=settings.temporal_address, TWILIO_ACCOUNT_SID=settings.twilio_account_sid,
               TWILIO_AUTH_TOKEN=settings.twilio_auth_token.get_secret_value(),
               A2P_PRIMARY_CUSTOMER_PROFILE_SID=settings.a2p_primary_customer_profile_sid,
               A2P_STALL_AFTER_SECONDS=str(BOUND.total_seconds()), LOG_LEVEL="WARNING")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "starter.cli", "list", "--stalled", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


async def _has(client, workflow_id: str, state: str) -> bool:
    return (await stalled_ids(client)).get(workflow_id) == state


async def _gone(client, workflow_id: str) -> bool:
    return workflow_id not in await stalled_ids(client)


class HoldingRunner(WorkflowRunner):
    """Our workflow runner, except that one registration's activations wait for ``release``: a
    workflow task its worker holds and does not complete."""

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        self.release = threading.Event()

    def prepare_workflow(self, defn) -> None:  # type: ignore[no-untyped-def]
        WORKFLOW_RUNNER.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        inner = WORKFLOW_RUNNER.create_instance(det)
        if det.info.workflow_id != self.workflow_id:
            return inner
        runner = self

        evicted = threading.Event()

        class Held(WorkflowInstance):
            def activate(self, act):  # type: ignore[no-untyped-def]
                if any(job.HasField("remove_from_cache") for job in act.jobs):
                    # The SDK evicts a run whose activation overran its 2 s deadlock bound: let
                    # that through at once (the held activation has not touched the run), so the
                    # eviction never waits on the hold — nor races the held thread once released.
                    evicted.set()
                    return inner.activate(act)
                runner.release.wait(60)
                if evicted.is_set():
                    raise RuntimeError("held activation of a run evicted meanwhile (discarded by the SDK)")
                return inner.activate(act)

            def get_serialization_context(self, *a, **k):  # type: ignore[no-untyped-def]
                return inner.get_serialization_context(*a, **k)

            def get_external_store_context(self, *a, **k):  # type: ignore[no-untyped-def]
                return inner.get_external_store_context(*a, **k)

            def get_info(self):  # type: ignore[no-untyped-def]
                return inner.get_info()

        return Held()


async def test_a_worker_that_holds_a_workflow_task_fails_its_health_check_and_the_stall_is_listed(temporal_env):
    client = temporal_env.client
    async with own_sandbox() as (proc, control):
        port = free_port()
        settings = sandbox_settings(proc.base_url, client.service_client.config.target_host,
                                    a2p_stall_after_seconds=BOUND.total_seconds(),
                                    a2p_worker_health_bind=f"127.0.0.1:{port}")
        request = await a_customer(control, 2)
        queue = f"held-{uuid.uuid4().hex[:6]}"
        runner = HoldingRunner(request.workflow_id)
        health = f"http://127.0.0.1:{port}/healthz"
        try:
            async with running_worker(client, settings, task_queue=queue, workflow_runner=runner), \
                    httpx.AsyncClient(timeout=5) as http:
                assert (await http.get(health)).status_code == 200
                await registrations.start_registration(client, settings, request, task_queue=queue)

                async def unhealthy() -> bool:
                    r = await http.get(health)
                    return r.status_code == 503 and "stopped completing" in r.json()["problem"]

                await eventually(unhealthy, 30, "the worker's health check failing", 0.2)
                # Listed while the worker holds it (STARTED), or once Temporal gave up on this
                # attempt and it waits for the stuck worker again (SCHEDULED).
                await eventually(lambda: _listed(client, request.workflow_id), 30, "the registration listed as stalled", 0.5)
                print(f"\nstalled: {(await stalled_ids(client))}; health: {(await http.get(health)).json()}")

                runner.release.set()   # the worker completes what it holds again: healthy
                await eventually(lambda: _healthy(http, health), 30, "the worker healthy again", 0.5)
        finally:
            runner.release.set()
            await client.get_workflow_handle(request.workflow_id).terminate("test done")


async def _listed(client, workflow_id: str) -> bool:
    return workflow_id in await stalled_ids(client)


async def _healthy(http: httpx.AsyncClient, url: str) -> bool:
    return (await http.get(url)).status_code == 200

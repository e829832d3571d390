"""A cancel ends a registration promptly also while Twilio answers every call with a 500 or holds
it — on the real dev server against the sandbox, since what it proves is that a real Twilio call in
flight (and its retries) is cancelled. The other operator actions (one at a time, answered after
their effect, checked against what the problem accepts) are tested in the workflow layer:
tests/workflows/test_operator_actions.py."""

from __future__ import annotations

import asyncio
import time

import pytest
from temporalio.api.enums.v1 import PendingActivityState

from a2p.progress import Phase
from starter import registrations
from tests.factories import eventually
from tests.integration.test_failure_paths import start

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _first_call_retried(pending) -> bool:  # failed twice: it waits for its next attempt
    return bool(pending) and pending[0].attempt >= 3


async def _first_call_in_flight(pending) -> bool:  # the sandbox holds it
    return bool(pending) and pending[0].state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED


@pytest.mark.parametrize("faults, ready", [
    ({"rate_500": 1.0}, _first_call_retried),
    ({"latency_ms": 12_000, "path_regex": "^/v1/CustomerProfiles"}, _first_call_in_flight),
], ids=["every-call-500", "call-hangs"])
async def test_cancel_while_twilio_fails_ends_within_10s(client, settings, task_queue, customer, control, faults, ready):
    await control.set_faults(**faults)
    try:
        wid = await start(client, settings, task_queue, customer.request())

        async def first_call_stuck():
            return await ready((await client.get_workflow_handle(wid).describe()).raw_description.pending_activities)
        await eventually(first_call_stuck, 60, f"the first Twilio call stuck on {faults}")

        started = time.monotonic()
        status = await registrations.cancel(client, wid, "customer left")
        elapsed = time.monotonic() - started
        assert status.phase == Phase.CANCELLED, status.model_dump_json(indent=1)
        assert elapsed < 10, f"the cancel answered after {elapsed:.1f} s"
        final = await asyncio.wait_for(registrations.final_status(client, wid), timeout=10)
        assert final.phase == Phase.CANCELLED and "customer left" in final.timeline[-1].note
    finally:
        await control.clear_faults()

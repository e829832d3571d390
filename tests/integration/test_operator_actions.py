"""Operator actions on the real dev server against the sandbox, through the service's API where a
person's client would be: a cancel ends a registration promptly also while Twilio answers every call
with a 500 or holds it, and reaches the worker's call in flight (no further request after it; the
held request abandoned); two actions sent together — two corrections, a correction and a retry —
are one applied and one refused, none lost; a correction answers in seconds although the
registration's settle wait is the production 30 s. The same rules in every corner (what a problem
accepts, answers after the effect) are tested in the workflow layer: tests/workflows/test_operator_actions.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType, PendingActivityState

from a2p.progress import Phase
from starter import registrations
from starter.service import create_app, serving
from tests.factories import eventually, wait_phase
from tests.integration.conftest import FAST
from tests.integration.test_failure_paths import start

pytestmark = pytest.mark.asyncio(loop_scope="session")

API_KEY = "operator-actions-key"
BUSY = "another action is being applied"


async def _first_call_retried(pending) -> bool:  # failed twice: it waits for its next attempt
    return bool(pending) and pending[0].attempt >= 3


async def _first_call_in_flight(pending) -> bool:  # the sandbox holds it
    return bool(pending) and pending[0].state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED


async def requests_made(control, account_sid: str) -> int:
    """Every Twilio request the customer's subaccount has made (sandbox stats)."""
    stats = await control.stats(account_sid=account_sid)
    return sum(sum(by_status.values()) for by_status in stats["requests"].values())


async def stays(probe: Callable[[], Awaitable[Any]], seconds: float, what: str) -> None:
    """``probe()`` gives the same value throughout a bounded observation window of ``seconds``."""
    first, until = await probe(), time.monotonic() + seconds
    while time.monotonic() < until:
        assert await probe() == first, f"{what} changed within {seconds:g} s"
        await asyncio.sleep(0.2)


async def cancel_requested(client, wid: str) -> bool:
    history = await client.get_workflow_handle(wid).fetch_history()
    return any(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED for e in history.events)


@pytest.mark.parametrize("faults, ready", [
    ({"rate_500": 1.0}, _first_call_retried),
    ({"latency_ms": 30_000, "path_regex": "^/v1/CustomerProfiles"}, _first_call_in_flight),
], ids=["every-call-500", "call-hangs"])
async def test_cancel_while_twilio_fails_ends_within_10s_and_reaches_the_call(
        client, settings, task_queue, customer, control, faults, ready):
    gone_before = (await control.faults())["counts"].get("client_gone", 0)
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
        await eventually(lambda: cancel_requested(client, wid), 10, "the call's cancel recorded")

        if "latency_ms" in faults:
            # The worker abandons the held request within seconds of the cancel — long before its
            # own 20 s HTTP timeout would: the sandbox sees the client hang up.
            async def hung_up() -> bool:
                return (await control.faults())["counts"].get("client_gone", 0) > gone_before
            await eventually(hung_up, 5, "the worker's held call abandoned (the sandbox sees it hang up)")
            assert time.monotonic() - started < 8
        else:
            # No further request from this customer once the cancel is in: not the retry that was
            # due within the next 4 s (backoff 1, 2, 4 s), nor any later.
            await stays(lambda: requests_made(control, customer.subaccount_sid), 5,
                        "the customer's Twilio requests after the cancel")
    finally:
        await control.clear_faults()


# ---- two actions at once, through the API, with the production 30 s settle wait -----------------


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    response = await request
    return response, time.monotonic() - t0


async def address_street(control, address_sid: str) -> str:
    return (await control.resources("addresses", sid=address_sid))["resources"][0]["street"]


async def test_actions_sent_together_one_applied_one_refused_a_correction_answers_in_seconds(
        client, settings, task_queue, customer, control):
    # Two customers whose profiles Twilio rejects for their street; the production settle wait.
    timings = FAST.model_copy(update={"settle_wait": timedelta(seconds=30)})
    wids = [await start(client, settings, task_queue, customer.request(timings=timings,
                                                                       customer__address__street="1 Jersey Str"))
            for _ in range(2)]
    api_settings = settings.model_copy(update={"a2p_service_api_key": SecretStr(API_KEY)})
    try:
        async with serving(create_app(api_settings, client)) as url, httpx.AsyncClient(
                base_url=url, timeout=60, headers={"Authorization": f"Bearer {API_KEY}"}) as http:
            one, other = await asyncio.gather(*(wait_phase(client, wid, Phase.NEEDS_ATTENTION, timeout=90)
                                                for wid in wids))
            assert "correction" in one.problem.accepts and "address" in one.problem.correction_fields

            # 1. Two corrections at once (Twilio slow, 1 s, to take the first one's address update).
            await control.set_faults(latency_ms=1000, methods=["POST"], path_regex=f"/Addresses/{one.sids.address}")
            streets = ["1 Jersey St", "2 Jersey St"]
            answers = await asyncio.gather(*(timed(http.post(f"/v1/registrations/{one.workflow_id}/corrections",
                                                             json={"address": {"street": s}})) for s in streets))
            await control.clear_faults()
            assert sorted(r.status_code for r, _ in answers) == [200, 422], [r.text for r, _ in answers]
            [(winner, (applied, took))] = [(s, a) for s, a in zip(streets, answers, strict=True)
                                           if a[0].status_code == 200]
            [(refused, _)] = [a for a in answers if a[0].status_code == 422]
            assert refused.json()["error"] == "refused by the registration" and BUSY in refused.json()["reason"]
            # Answered once its Twilio writes were made, in seconds: not after the 30 s settle wait.
            assert took < 5, f"the correction answered after {took:.1f} s"
            body = applied.json()
            assert body["phase"] == "CUSTOMER_PROFILE" and "30 s settle wait" in body["waiting_for"], body
            # None lost: the applied one is Twilio's data; the refused one is nowhere.
            assert await address_street(control, one.sids.address) == winner

            # 2. A correction and a retry at once (Twilio slow, 2 s, to answer the retry's re-check).
            await control.set_faults(latency_ms=2000, methods=["GET"],
                                     path_regex=f"/CustomerProfiles/{other.sids.customer_profile}$")
            correction, retry = await asyncio.gather(
                timed(http.post(f"/v1/registrations/{other.workflow_id}/corrections",
                                json={"address": {"street": "1 Jersey St"}})),
                timed(http.post(f"/v1/registrations/{other.workflow_id}/actions/decide", json={"action": "retry"})))
            await control.clear_faults()
            assert sorted((correction[0].status_code, retry[0].status_code)) == [200, 422], \
                (correction[0].text, retry[0].text)
            if correction[0].status_code == 200:
                assert correction[1] < 5 and await address_street(control, other.sids.address) == "1 Jersey St"
                assert retry[0].json()["error"] == "refused by the registration"
            else:  # the retry was applied: re-checked, parked again; the address untouched
                assert retry[0].json()["phase"] == "NEEDS_ATTENTION", retry[0].text
                assert await address_street(control, other.sids.address) == "1 Jersey Str"

            for wid in wids:
                cancelled = await http.post(f"/v1/registrations/{wid}/actions/cancel", json={"reason": "test done"})
                assert cancelled.status_code == 200 and cancelled.json()["phase"] == "CANCELLED", cancelled.text
    finally:
        await control.clear_faults()
        for wid in wids:
            status = await registrations.get_status(client, wid)
            if status.phase not in (Phase.CANCELLED, Phase.COMPLETED, Phase.FAILED):
                await registrations.cancel(client, wid, "test over")

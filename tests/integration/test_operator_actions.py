"""Operator actions (the workflow's Updates) as an operator lives them, on the real dev server
against the sandbox: a parked registration says what it takes (``Problem.accepts``,
``correction_fields``) and the validators hold to it; one action at a time — a second one sent
while the first is being applied is refused, never accepted and dropped; every action answers
once its effect is done, with the status that shows it; a cancel ends the registration promptly,
also while Twilio answers every call with a 500 or holds it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import PendingActivityState

from a2p.progress import OperatorDecision, Phase, RegistrationStatus
from a2p.requests import Correction
from starter import registrations
from tests.factories import wait_phase, wait_until
from tests.integration.conftest import FAST
from tests.integration.test_failure_paths import Calls, complete, start

pytestmark = pytest.mark.asyncio(loop_scope="session")

# A settle wait longer than the sandbox's profile review (1 s): the rejected address is seen at
# the check after the customer profile's settle wait, and the registration parks there.
PARK_AT_PROFILE = FAST.model_copy(update={"settle_wait": timedelta(seconds=2)})
REJECTED_STREET = "1 Jersey Str"  # the seed's "Invalid Street"

PROFILE_FETCH = "GET /v1/CustomerProfiles/{Sid}"
BUSY = "another action is being applied"


@contextlib.asynccontextmanager
async def slow_twilio(control, seconds: float = 2):
    """The Twilio calls an action's effect makes (the address update; the profile's fetch and
    submission) take ``seconds``: a second action sent together surely arrives while the first
    one is being applied, whichever the workflow takes first."""
    await control.set_faults(latency_ms=seconds * 1000,
                             path_regex=r"/Addresses/AD\w+\.json$|^/v1/CustomerProfiles/BU\w+$")
    try:
        yield
    finally:
        await control.clear_faults()


async def parked_on_rejected_address(client, settings, task_queue, customer, timings=PARK_AT_PROFILE,
                                     timeout: float = 40) -> tuple[str, RegistrationStatus]:
    request = customer.request(timings=timings, customer__address__street=REJECTED_STREET)
    wid = await start(client, settings, task_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION, timeout=timeout)
    assert status.problem.source == "customer_profile" and "Invalid Street" in status.problem.summary, status.problem
    assert "correction" in status.problem.accepts and "address" in status.problem.correction_fields
    return wid, status


async def streets(customer) -> list[str]:
    return [a["street"] for a in await customer.resources("addresses")]


async def cancelled(client, wid: str) -> RegistrationStatus:
    status = await registrations.cancel(client, wid, "test done")
    assert status.phase == Phase.CANCELLED, status.model_dump_json(indent=1)
    return status


# ---- one action at a time ------------------------------------------------------------------------


async def test_two_concurrent_corrections_one_is_applied_the_other_refused_none_lost(
        client, settings, task_queue, customer, control):
    wid, _ = await parked_on_rejected_address(client, settings, task_queue, customer)
    one, other = Correction(address={"street": "1 Jersey St"}), Correction(address={"street": "2 Jersey St"})

    async with slow_twilio(control):
        outcomes = await asyncio.gather(registrations.correct(client, wid, one),
                                        registrations.correct(client, wid, other), return_exceptions=True)

    applied = [(c, o) for c, o in zip((one, other), outcomes) if isinstance(o, RegistrationStatus)]
    refused = [o for o in outcomes if isinstance(o, registrations.UpdateRefused)]
    assert len(applied) == 1 and len(refused) == 1, outcomes
    [(winner, answer)], [refusal] = applied, refused
    assert BUSY in str(refusal), str(refusal)
    assert answer.phase != Phase.NEEDS_ATTENTION, answer.model_dump_json(indent=1)

    # The applied one is not lost: the registration completes with it, and only with it.
    final = await complete(client, control, wid, customer.mobile_number)
    assert await streets(customer) == [winner.address.street]
    notes = [e.note for e in final.timeline]
    assert sum(n.startswith("correction received") for n in notes) == 1, notes


async def test_a_correction_and_a_retry_together_one_is_refused(client, settings, task_queue, customer, control):
    wid, parked = await parked_on_rejected_address(client, settings, task_queue, customer)

    async with slow_twilio(control):
        outcomes = await asyncio.gather(
            registrations.correct(client, wid, Correction(address={"street": "1 Jersey St"})),
            registrations.decide(client, wid, OperatorDecision(action="retry")), return_exceptions=True)

    refused = [o for o in outcomes if isinstance(o, registrations.UpdateRefused)]
    answered = [o for o in outcomes if isinstance(o, RegistrationStatus)]
    assert len(refused) == 1 and len(answered) == 1, outcomes
    assert BUSY in str(refused[0]), str(refused[0])
    if isinstance(outcomes[0], registrations.UpdateRefused):
        # The retry was applied: the bundles re-read, parked again, the address untouched.
        assert await streets(customer) == [REJECTED_STREET]
        assert answered[0].phase == Phase.NEEDS_ATTENTION and answered[0].problem.at > parked.problem.at
    else:
        assert await streets(customer) == ["1 Jersey St"]
        assert answered[0].phase == Phase.CUSTOMER_PROFILE, answered[0].model_dump_json(indent=1)
    await cancelled(client, wid)


# ---- answered once the effect is done --------------------------------------------------------------


async def test_a_correction_answers_in_seconds_with_the_default_30s_settle_wait(
        client, settings, task_queue, customer):
    # The default 30 s settle wait; the sandbox reviews the profile within it (1 s), so the check
    # after the first wait parks the registration on the rejected address.
    timings = FAST.model_copy(update={"settle_wait": timedelta(seconds=30)})
    wid, _ = await parked_on_rejected_address(client, settings, task_queue, customer, timings=timings, timeout=70)
    try:
        started = time.monotonic()
        status = await registrations.correct(client, wid, Correction(address={"street": "1 Jersey St"}))
        elapsed = time.monotonic() - started

        assert elapsed < 5, f"the correction answered after {elapsed:.1f} s"
        # What it answers with shows the correction's writes made and the next settle wait begun.
        assert status.phase == Phase.CUSTOMER_PROFILE and status.problem is None, status.model_dump_json(indent=1)
        assert "30 s settle wait" in (status.waiting_for or ""), status.waiting_for
        assert status.next_timer_at is not None
        assert await streets(customer) == ["1 Jersey St"]
        [profile] = await customer.resources("customer_profiles")
        assert profile["sandbox"]["submissions"] == 2  # resubmitted
    finally:
        await cancelled(client, wid)


async def test_every_action_answers_with_the_status_after_its_effect(client, settings, task_queue, customer, control):
    # decide retry: the bundles are re-read (still rejected) and the registration parks again.
    wid, parked = await parked_on_rejected_address(client, settings, task_queue, customer)
    calls = await Calls.now(control)
    retried = await registrations.decide(client, wid, OperatorDecision(action="retry"))
    assert (await calls.since(control)).get(PROFILE_FETCH, 0) >= 1  # the re-check was made before the answer
    assert retried.phase == Phase.NEEDS_ATTENTION and retried.problem.at > parked.problem.at, \
        retried.model_dump_json(indent=1)
    assert "operator asked to retry" in [e.note for e in retried.timeline]

    # cancel: answers with the registration CANCELLED.
    status = await cancelled(client, wid)
    assert status.finished_at is not None
    assert (await registrations.final_status(client, wid)).phase == Phase.CANCELLED


async def test_resend_otp_answers_once_the_otp_went_out(client, settings, task_queue, customer, control):
    # No automatic re-send during the test: only the operator's.
    timings = FAST.model_copy(update={"otp_resend_interval": timedelta(hours=1), "otp_deadline": timedelta(hours=2)})
    request = customer.request(timings=timings)
    wid = await start(client, settings, task_queue, request)
    try:
        before = await wait_phase(client, wid, Phase.OTP_VERIFICATION)
        sent_before = len((await control.otp_messages(to=customer.mobile_number))["messages"])

        status = await registrations.resend_otp(client, wid)

        assert status.otp.resends == before.otp.resends + 1, status.otp
        assert status.otp.sent == before.otp.sent + 1
        assert status.phase == Phase.OTP_VERIFICATION
        assert len((await control.otp_messages(to=customer.mobile_number))["messages"]) == sent_before + 1
    finally:
        await cancelled(client, wid)


# ---- a prompt cancel ------------------------------------------------------------------------------------


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
        await control.wait_until(first_call_stuck, timeout=30, message=f"the first Twilio call stuck on {faults}")

        started = time.monotonic()
        status = await registrations.cancel(client, wid, "customer left")
        elapsed = time.monotonic() - started
        assert status.phase == Phase.CANCELLED, status.model_dump_json(indent=1)
        assert elapsed < 10, f"the cancel answered after {elapsed:.1f} s"
        final = await asyncio.wait_for(registrations.final_status(client, wid), timeout=10)
        assert final.phase == Phase.CANCELLED and "customer left" in final.timeline[-1].note
    finally:
        await control.clear_faults()


async def test_cancel_during_a_correction_answers_both(client, settings, task_queue, customer, control):
    wid, _ = await parked_on_rejected_address(client, settings, task_queue, customer)
    async with slow_twilio(control, seconds=6):
        correcting = asyncio.create_task(
            registrations.correct(client, wid, Correction(address={"street": "1 Jersey St"})))
        await wait_until(client, wid, lambda s: s.phase != Phase.NEEDS_ATTENTION, what="the correction taken")

        started = time.monotonic()
        status = await registrations.cancel(client, wid, "customer left")
        elapsed = time.monotonic() - started
        # The correction in effect is not left hanging: it answers too, with the end it came to.
        corrected = await asyncio.wait_for(correcting, timeout=10)
    assert status.phase == Phase.CANCELLED and elapsed < 10, (status.phase, elapsed)
    assert corrected.phase == Phase.CANCELLED, corrected.model_dump_json(indent=1)


# ---- what a parked registration takes, as data ---------------------------------------------------------


async def test_decisions_and_corrections_are_checked_against_what_the_problem_accepts(
        client, settings, task_queue, customer):
    wid, parked = await parked_on_rejected_address(client, settings, task_queue, customer)
    problem = parked.problem
    assert "resend_otp_and_wait" not in problem.accepts and "campaign" not in problem.correction_fields

    with pytest.raises(registrations.UpdateRefused) as refused:
        await registrations.decide(client, wid, OperatorDecision(action="resend_otp_and_wait"))
    message = str(refused.value)
    assert "resend_otp_and_wait" in message and "possible: retry, end" in message, message

    with pytest.raises(registrations.UpdateRefused) as refused:
        await registrations.correct(client, wid, Correction(campaign={"description": "Order-ready and pickup reminders for the bakery's customers."}))
    message = str(refused.value)
    assert "not of campaign" in message and "address" in message, message

    # Refusals change nothing: still parked on the same problem.
    status = await registrations.get_status(client, wid)
    assert status.phase == Phase.NEEDS_ATTENTION and status.problem == problem
    assert await streets(customer) == [REJECTED_STREET]

    # What it does accept, it takes: `end` ends it as FAILED.
    ended = await registrations.decide(client, wid, OperatorDecision(action="end", reason="customer gave up"))
    assert ended.phase == Phase.FAILED, ended.model_dump_json(indent=1)
    assert (await registrations.final_status(client, wid)).phase == Phase.FAILED

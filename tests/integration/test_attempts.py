"""A Twilio request goes out only while the activity attempt making it lives on at Temporal, and
is awaited no longer (activities/attempt.py): a create sent after Temporal gave up on its attempt
could land after the retry had looked for it — a second customer profile; and a write that got no
answer is retried only after as long again. Run with the real SDK against the sandbox, in
Temporal's ActivityEnvironment with the attempt's timing set as Temporal sets it, and end to end
on the dev server."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from a2p.calls import BundleRef, CreateBundle, ErrorType
from a2p.constants import STARTER_PROFILE_POLICY_SID
from a2p.progress import Phase
from activities.trust_hub import TrustHubActivities
from activities.twilio_client import TwilioClients
from starter import registrations
from tests.factories import answer_otp, wait_phase, wait_until
from tests.integration.conftest import FAST

pytestmark = pytest.mark.asyncio(loop_scope="session")


def attempt(*, began_ago: float, start_to_close: float = 5.0, heartbeat_timeout: float = 10.0) -> ActivityEnvironment:
    """An activity attempt that Temporal started ``began_ago`` seconds ago with these timeouts."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, started_time=datetime.now(timezone.utc) - timedelta(seconds=began_ago),
        start_to_close_timeout=timedelta(seconds=start_to_close), heartbeat_timeout=timedelta(seconds=heartbeat_timeout))
    return env


@pytest.fixture
async def trust_hub(settings):
    clients = TwilioClients(settings)
    yield TrustHubActivities(clients)
    await clients.close()


def profile(customer) -> CreateBundle:
    return CreateBundle(subaccount_sid=customer.subaccount_sid, kind="customer_profile",
                        friendly_name=f"attempt-{uuid.uuid4().hex[:8]} starter customer profile",
                        email="owner@example.com", policy_sid=STARTER_PROFILE_POLICY_SID)


async def posts(customer) -> list[str]:
    return [r["endpoint"] for r in (await customer.control.requests(customer.subaccount_sid))["requests"]
            if r["endpoint"].startswith("POST")]


@pytest.mark.parametrize("timing", [
    pytest.param(dict(began_ago=4.5), id="start-to-close-nearly-over"),
    # No heartbeat for longer than the heartbeat timeout (an event loop that lagged): Temporal has given up.
    pytest.param(dict(began_ago=3.0, start_to_close=30.0, heartbeat_timeout=2.0), id="heartbeat-timed-out"),
])
async def test_a_create_is_not_sent_once_temporal_may_have_given_up_on_its_attempt(trust_hub, customer, timing):
    with pytest.raises(ApplicationError) as caught:
        await attempt(**timing).run(trust_hub.create_bundle, profile(customer))
    assert caught.value.type == ErrorType.UNAVAILABLE and not caught.value.non_retryable  # retried, and looks first
    assert "request not sent" in caught.value.message
    assert await posts(customer) == [] and await customer.count("customer_profiles") == 0


async def test_a_create_in_a_live_attempt_is_sent(trust_hub, customer):
    created = await attempt(began_ago=0.5).run(trust_hub.create_bundle, profile(customer))
    assert created.sid.startswith("BU") and await customer.count("customer_profiles") == 1


async def test_a_write_with_no_answer_is_reported_while_its_attempt_lives_and_retried_after_as_long_again(
        trust_hub, customer):
    # Twilio slow to answer, longer than the 20 s HTTP timeout; the attempt ends at its start-to-close, 3 s.
    await customer.control.set_faults(account_sid=customer.subaccount_sid, latency_ms=25_000)
    begun = time.monotonic()
    with pytest.raises(ApplicationError) as caught:
        await attempt(began_ago=0.0, start_to_close=3.0).run(trust_hub.create_bundle, profile(customer))
    err = caught.value
    assert err.type == ErrorType.UNAVAILABLE and "did not answer a write" in err.message
    # The request was given what was left of the attempt less half its 1 s margin, not the HTTP
    # timeout: the activity says so itself before Temporal times it out, and the retry waits as
    # long again. (Bounds, not timings: a loaded machine only makes the time given shorter.)
    assert err.next_retry_delay is not None and 0.5 < err.next_retry_delay.total_seconds() <= 2.5
    assert time.monotonic() - begun < 10


async def test_a_read_with_no_answer_is_retried_at_the_policys_pace(trust_hub, customer):
    await customer.control.set_faults(account_sid=customer.subaccount_sid, latency_ms=6000)
    with pytest.raises(ApplicationError) as caught:
        await attempt(began_ago=0.0, start_to_close=3.0).run(trust_hub.fetch_bundle, BundleRef(
            subaccount_sid=customer.subaccount_sid, kind="customer_profile", bundle_sid="BU" + "0" * 32))
    assert caught.value.type == ErrorType.UNAVAILABLE and caught.value.next_retry_delay is None


async def test_a_create_twilio_commits_after_its_call_gave_up_is_made_once(client, settings, task_queue, customer):
    """Twilio takes 4 s to commit each new customer profile; the call gives up after its 3 s
    start-to-close. The retry looks only once the first request has landed, and finds it."""
    await customer.control.set_faults(account_sid=customer.subaccount_sid, latency_ms=4000, methods=["POST"],
                                      path_regex="^/v1/CustomerProfiles$")
    request = customer.request(timings=FAST.model_copy(update={"call_timeout": timedelta(seconds=3)}))
    started = await registrations.start_registration(client, settings, request, task_queue=task_queue)
    await wait_until(client, started.workflow_id, lambda s: s.sids.starter_end_user is not None, timeout=60,
                     what="the customer profile made and the registration moved on")
    await customer.control.clear_faults(account_sid=customer.subaccount_sid)
    await wait_phase(client, started.workflow_id, Phase.OTP_VERIFICATION)
    assert (await answer_otp(customer.control, request.customer.mobile_number))["accepted"]
    final = await registrations.final_status(client, started.workflow_id)
    assert final.phase == Phase.COMPLETED
    assert await customer.count("customer_profiles") == 1
    creates = [p for p in await posts(customer) if p == "POST /v1/CustomerProfiles"]
    assert len(creates) == 1  # the retry found it: nothing was sent twice

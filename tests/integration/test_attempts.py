"""A Twilio request goes out only while the activity attempt making it lives on at Temporal, and
is awaited no longer (activities/attempt.py): a create sent after Temporal gave up on its attempt
could land after the retry had looked for it — a second customer profile. Run with the real SDK
against the sandbox, in Temporal's ActivityEnvironment with the attempt's timing set as Temporal
sets it."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from a2p.calls import CreateBundle, ErrorType
from a2p.constants import STARTER_PROFILE_POLICY_SID
from activities.trust_hub import TrustHubActivities
from activities.twilio_client import TwilioClients


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


async def test_an_answer_is_awaited_no_longer_than_the_attempt_lives(trust_hub, customer):
    # Twilio slow to answer (its HTTP timeout is 20 s): the attempt ends at its start-to-close, 3 s.
    await customer.control.set_faults(account_sid=customer.subaccount_sid, latency_ms=6000)
    begun = time.monotonic()
    with pytest.raises(ApplicationError) as caught:
        await attempt(began_ago=0.0, start_to_close=3.0).run(trust_hub.create_bundle, profile(customer))
    assert caught.value.type == ErrorType.UNAVAILABLE and "TimeoutError" in caught.value.message
    assert time.monotonic() - begun < 5.0

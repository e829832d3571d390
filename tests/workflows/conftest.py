"""The workflow layer: the real workflows on the production worker setup (worker.running_workers:
same workflows, sandbox runner, data converter, task queues), against Temporal's time-skipping
dev server, with the Twilio activities replaced by fakes under the real names
(tests/workflows/fake_twilio.py). Timers jump: a registration with the production timings (30 s
settle waits, polls up to 6 h, an OTP re-sent every 24 h, a 30-day deadline) runs in seconds."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest

from a2p.requests import LegacyConversionRequest, RegistrationRequest
from a2p.timings import Timings
from local_stack.stack import sandbox_settings
from tests.factories import registration_data
from tests.workflows.fake_twilio import FakeTwilio
from worker import running_workers


@pytest.fixture(scope="session")
async def ts_env():
    from local_stack.devserver import start_dev_server

    env = await start_dev_server(time_skipping=True)  # in-memory: nothing here outlives the session
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def fake() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture(scope="session")
def ts_settings(ts_env):
    # Nothing is reached at this Twilio URL: every Twilio call is a fake activity.
    return sandbox_settings("http://127.0.0.1:9", ts_env.client.service_client.config.target_host)


@contextlib.asynccontextmanager
async def faked_workers(env, fake: FakeTwilio, prefix: str = "wf"):
    """A task queue of its own, served by the production worker setup with ``fake``'s activities."""
    queue = f"{prefix}-{uuid.uuid4().hex[:8]}"
    async with running_workers(env.client, queue, fake.activities(), fake.otp_activities(),
                               max_cached_workflows=100):
        yield queue


@pytest.fixture(scope="session")
async def ts_queue(ts_env, fake):
    async with faked_workers(ts_env, fake) as queue:
        yield queue


@pytest.fixture
def client(ts_env):
    return ts_env.client


def new_request(timings: Timings = Timings(), **changes: Any) -> RegistrationRequest:
    """The README's example registration, by default with the production timings, for a new customer."""
    return RegistrationRequest.model_validate(registration_data(
        f"wf-{uuid.uuid4().hex[:10]}", mobile_number="+14155550124", phone_number_sid="PN" + "1" * 32,
        timings=timings, **changes))


def conversion_request(trust_bundle_sid: str, brand_sid: str, **changes: Any) -> LegacyConversionRequest:
    data = {"isv_customer_id": f"wf-{uuid.uuid4().hex[:10]}", "trust_bundle_sid": trust_bundle_sid,
            "brand_sid": brand_sid, "brand_name": "John Doe Photography", "mobile_number": "+14155550124",
            "vertical": "PROFESSIONAL"}
    return LegacyConversionRequest.model_validate({**data, **changes})

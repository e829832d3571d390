"""Integration fixtures: the dev server (tests/conftest.py), the sandbox over HTTP with quick
review delays, and a worker of the real workflows and activities on a private task queue.

Each test registers its customers in a subaccount of its own, so that what the sandbox holds can
be counted per test (and the subaccount path is exercised)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from a2p.requests import RegistrationRequest
from a2p.timings import Timings
from sandbox.testing import SandboxControl, SandboxProcess
from local_stack.stack import sandbox_settings
from tests.factories import registration_data
from worker import running_worker


# Sandbox review delays (sandbox clock), longer than the workflows' settle wait (0.5 s) so that a
# rejection surfaces where it would with Twilio: after the workflow has moved on.
SANDBOX_CONFIG = {
    "profile_review_seconds": 1, "trust_product_review_seconds": 1, "brand_review_seconds": 1.5,
    "campaign_in_progress_seconds": 0.5, "campaign_review_seconds": 1,
    # Every test customer uses the example's email and address: don't let TCR's cap of 10 brands
    # per email/address bite (mobile numbers, capped at 3, are unique per test customer).
    "count_email_and_address_reuse": False,
}

FAST = Timings(
    settle_wait=timedelta(seconds=0.5), otp_resend_interval=timedelta(seconds=3),
    otp_deadline=timedelta(seconds=30), poll_initial=timedelta(seconds=0.5), poll_max=timedelta(seconds=2),
)


@pytest.fixture(scope="session")
async def sandbox():
    async with SandboxProcess(SANDBOX_CONFIG) as proc:
        yield proc


@pytest.fixture(scope="session")
async def control(sandbox):
    ctl = SandboxControl(sandbox.base_url)
    yield ctl
    await ctl.aclose()


@pytest.fixture(scope="session")
def settings(sandbox, temporal_env):
    return sandbox_settings(sandbox.base_url, temporal_env.client.service_client.config.target_host)


@pytest.fixture(scope="session")
async def task_queue(temporal_env, settings):
    queue = f"it-{uuid.uuid4().hex[:8]}"
    async with running_worker(temporal_env.client, settings, task_queue=queue):
        yield queue


@pytest.fixture
def client(temporal_env):
    return temporal_env.client


class Customer:
    """One test customer: its subaccount, its 10DLC number, and request factory."""

    def __init__(self, control: SandboxControl, subaccount_sid: str, phone_number_sid: str,
                 mobile_number: str | None = None) -> None:
        self.control = control
        self.subaccount_sid = subaccount_sid
        self.phone_number_sid = phone_number_sid
        # TCR allows 3 brands per mobile; customers side by side need their own (their OTPs go to it).
        self.mobile_number = mobile_number or f"+1415555{uuid.uuid4().int % 10000:04d}"

    def request(self, *, timings: Timings = FAST, **changes: Any) -> RegistrationRequest:
        return RegistrationRequest.model_validate(registration_data(
            f"t-{uuid.uuid4().hex[:10]}", subaccount_sid=self.subaccount_sid, mobile_number=self.mobile_number,
            phone_number_sid=self.phone_number_sid, timings=timings, **changes))

    async def count(self, kind: str) -> int:
        return len(await self.resources(kind))

    async def resources(self, kind: str) -> list[dict]:
        return (await self.control.resources(kind, account_sid=self.subaccount_sid))["resources"]


async def new_customer(control: SandboxControl, mobile_number: str | None = None) -> Customer:
    """A customer in a subaccount of its own, with its 10DLC number."""
    sub = await control.create_subaccount()
    number = await control.create_phone_number(account_sid=sub["sid"])
    return Customer(control, sub["sid"], number["sid"], mobile_number)


@pytest.fixture
async def customer(control) -> Customer:
    return await new_customer(control)

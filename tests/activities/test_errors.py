"""How a failed Twilio call becomes the activity error that decides Temporal's retries
(activities/errors.py), run in Temporal's ActivityEnvironment with the SDK's own exceptions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from twilio.base.exceptions import TwilioRestException

from a2p.calls import Call, ErrorType
from activities.errors import twilio_call
from activities.twilio_client import RETRY_AFTER
from workflows.policies import CALL_OPTIONS

URI = "https://messaging.twilio.com/v1/a2p/BrandRegistrations/BN0123"


def failing(exc: BaseException, retry_after: float | None = None):
    """An activity whose one Twilio call fails with ``exc`` (after a 429's Retry-After, as the
    HTTP client records it)."""

    @twilio_call(Call.FETCH_BRAND)
    async def fetch_brand() -> None:
        if retry_after is not None:
            RETRY_AFTER.set(retry_after)
        raise exc

    return fetch_brand


async def run(exc: BaseException, retry_after: float | None = None) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(failing(exc, retry_after))
    return caught.value


async def test_a_4xx_is_rejected_for_good_with_twilios_code_and_a_hint():
    err = await run(TwilioRestException(400, URI, "Brand is not in FAILED state", code=21725, method="POST"))
    assert err.type == ErrorType.REJECTED and err.non_retryable
    assert err.details[0] == {"code": 21725, "message": "Brand is not in FAILED state", "fields": [],
                              "http_status": 400}
    assert "code 21725" in err.message and "only while it is FAILED" in err.message  # a2p.constants.explain


async def test_a_404_is_rejected_too():
    err = await run(TwilioRestException(404, URI, "The requested resource was not found", code=20404))
    assert err.type == ErrorType.REJECTED and err.non_retryable


@pytest.mark.parametrize("retry_after, low, high", [(5.0, 5.0, 7.5), (None, 1.0, 1.5)])
async def test_a_429_is_retried_after_twilios_retry_after_with_jitter(retry_after, low, high):
    err = await run(TwilioRestException(429, URI, "Too Many Requests", code=20429), retry_after)
    assert err.type == ErrorType.RATE_LIMITED and not err.non_retryable
    assert timedelta(seconds=low) <= err.next_retry_delay <= timedelta(seconds=high)
    assert err.details[0]["code"] == 20429


@pytest.mark.parametrize("exc", [
    TwilioRestException(500, URI, "Internal Server Error", code=20500),
    TwilioRestException(503, URI, "Service Unavailable"),
    asyncio.TimeoutError(),
    aiohttp.ServerDisconnectedError(),
    aiohttp.ClientConnectionError("connection reset"),
], ids=["500", "503", "timeout", "disconnected", "connection-error"])
async def test_5xx_timeouts_and_dropped_connections_are_retried(exc):
    err = await run(exc)
    assert err.type == ErrorType.UNAVAILABLE and not err.non_retryable
    assert err.next_retry_delay is None  # the retry policy's backoff applies


async def test_other_exceptions_are_bugs_not_twilio_errors():
    with pytest.raises(KeyError):
        await ActivityEnvironment().run(failing(KeyError("sid")))


def test_every_call_retries_all_but_rejections():
    for call, options in CALL_OPTIONS.items():
        assert options.retry.non_retryable_error_types == [str(ErrorType.REJECTED)], call
        assert options.retry.maximum_attempts == 0, call  # unlimited: bounded by schedule-to-close

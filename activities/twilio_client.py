"""The one Twilio client factory.

Every activity gets its `twilio.rest.Client` from here: the real SDK with its async (aiohttp)
HTTP client, pointed at the sandbox when ``TWILIO_API_BASE_URL`` is set (the SDK's supported
``Domain.base_url`` setting: no monkeypatching), acting on the parent account or on a customer's
subaccount with the parent's credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextvars import ContextVar
from typing import Any

from temporalio import activity
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from a2p.metrics import TWILIO_CALLS, endpoint
from activities.attempt import AttemptExpiring, request_timeout
from infra.settings import Settings


# The Retry-After of the last 429 seen by the current activity (each activity runs in its own
# asyncio task, so this never leaks between concurrent activities). The SDK's exception does not
# carry response headers; activities/errors.py reads this to honour Twilio's backoff.
RETRY_AFTER: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)
# How long the current activity's last write (create, update, delete) that got no answer was given.
UNANSWERED_WRITE: ContextVar[float | None] = ContextVar("twilio_unanswered_write", default=None)


class _AsyncHttpClient(AsyncTwilioHttpClient):
    """The SDK's aiohttp client, with its configured timeout applied to every request (the SDK
    passes ``timeout=None`` per request, which would mean aiohttp's 5-minute default), at most
    ``max_concurrent`` requests in flight per account (Twilio answers 429 beyond its concurrency
    limit: waiting here costs less than a 429 and its backoff), sent only while the activity attempt
    making it lives on at Temporal and awaited no longer (activities/attempt.py: a retry's look for
    an earlier attempt's resource must not race a request still on its way), and what the retry
    policy needs remembered: a 429's Retry-After, how long a write that got no answer was given."""

    def __init__(self, *, timeout: float, max_concurrent: int | None = None) -> None:
        super().__init__(timeout=timeout)
        self._max_concurrent = max_concurrent
        self._slots: dict[str, asyncio.Semaphore] = {}

    def _slot(self, auth: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        if self._max_concurrent is None:
            return contextlib.nullcontext()
        account = auth[0] if auth else ""
        if account not in self._slots:
            self._slots[account] = asyncio.Semaphore(self._max_concurrent)
        return self._slots[account]

    async def request(self, method: str, url: str, *args: Any, timeout: float | None = None, **kwargs: Any):  # type: ignore[override]
        try:
            async with self._slot(kwargs.get("auth")):
                timeout = request_timeout(timeout or self.timeout)  # activities/attempt.py
                response = await super().request(method, url, *args, timeout=timeout, **kwargs)
        except AttemptExpiring:
            _count(method, url, "not_sent")
            raise
        except asyncio.TimeoutError:
            if method != "GET":  # a write with no answer may still be processed: see activities/errors.py
                UNANSWERED_WRITE.set(timeout)
            _count(method, url, "error")
            raise
        except asyncio.CancelledError:  # the call was cancelled (its registration's cancel, a shutdown)
            _count(method, url, "cancelled")
            raise
        except Exception:
            _count(method, url, "error")
            raise
        _count(method, url, str(response.status_code))
        if response.status_code == 429:
            RETRY_AFTER.set(_seconds(response.headers.get("Retry-After") if response.headers else None))
        return response


def _count(method: str, url: str, status: str) -> None:
    if activity.in_activity():
        activity.metric_meter().create_counter(TWILIO_CALLS, "Twilio API requests by endpoint and status").add(
            1, {"endpoint": endpoint(method, url), "status": status})


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare at Twilio; the default backoff applies


class TwilioClients:
    """Hands out one cached `Client` per account. Create it inside the worker's event loop
    (aiohttp sessions belong to a loop); close it when the worker stops."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._http: _AsyncHttpClient | None = None
        self._clients: dict[str, Client] = {}

    def for_account(self, subaccount_sid: str | None = None) -> Client:
        """A client acting on ``subaccount_sid`` (a customer's subaccount) or the parent account."""
        account_sid = subaccount_sid or self._settings.twilio_account_sid
        client = self._clients.get(account_sid)
        if client is None:
            client = self._build(account_sid)
            self._clients[account_sid] = client
        return client

    def _build(self, account_sid: str) -> Client:
        s = self._settings
        if self._http is None:
            self._http = _AsyncHttpClient(timeout=s.twilio_http_timeout_seconds,
                                          max_concurrent=s.twilio_max_concurrent_requests)
        if s.twilio_api_key and s.twilio_api_secret:
            username, password = s.twilio_api_key, s.twilio_api_secret.get_secret_value()
        else:
            assert s.twilio_auth_token is not None  # guaranteed by Settings validation
            # Twilio accepts a subaccount SID with the parent's auth token.
            username, password = account_sid, s.twilio_auth_token.get_secret_value()
        client = Client(username, password, account_sid=account_sid, http_client=self._http)
        if s.twilio_api_base_url:
            for domain in (client.trusthub, client.messaging, client.api):
                domain.base_url = s.twilio_api_base_url
        return client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._clients.clear()

"""Auth tokens of the ISV's subaccounts, for checking the signatures of their webhooks: Twilio signs
a subaccount's bundle status callbacks and events with that subaccount's own auth token.

Read through the parent's credentials (``GET /2010-04-01/Accounts/{Sid}.json``, the Accounts
resource) with the project's one Twilio client factory, only for accounts owned by the parent,
and cached. Lookups are rate-limited, and accounts that are not ours are remembered too, so a
stream of forged callbacks naming made-up accounts costs Twilio a bounded number of requests.
The limit is kept per kind of delivery (``bucket``): bundle callbacks reach a lookup only with a
callback URL token the service issued, Event Streams deliveries with any signature header, so a
flood of forged events cannot use up the lookups a subaccount's bundle callback needs.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from twilio.base.exceptions import TwilioRestException

from infra.settings import Settings
from activities.twilio_client import TwilioClients

log = structlog.get_logger("a2p.service")

TOKEN_TTL = 3600.0         # a rotated subaccount token is picked up within the hour
NOT_OURS_TTL = 300.0
LOOKUPS_PER_MINUTE = 30


class SubaccountTokens:
    def __init__(self, settings: Settings, *, clock=time.monotonic) -> None:
        self._settings = settings
        self._clients: TwilioClients | None = None
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lookups: dict[str, list[float]] = {}
        self._lock = asyncio.Lock()
        self._clock = clock

    async def token(self, account_sid: str, bucket: str = "callbacks") -> str | None:
        """The auth token of ``account_sid`` if it is a subaccount of the parent; None otherwise, or
        when it cannot be read now (``bucket``'s LOOKUPS_PER_MINUTE are used up)."""
        if account_sid == self._settings.twilio_account_sid:
            return None
        now = self._clock()
        cached = self._cache.get(account_sid)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._lock:  # one lookup at a time: concurrent deliveries share its answer
            cached = self._cache.get(account_sid)
            if cached is not None and cached[0] > self._clock():
                return cached[1]
            lookups = self._lookups[bucket] = [t for t in self._lookups.get(bucket, []) if t > now - 60]
            if len(lookups) >= LOOKUPS_PER_MINUTE:
                log.warning("subaccount_lookup_limited", account_sid=account_sid, bucket=bucket)
                return None
            lookups.append(now)
            token, ttl = await self._fetch(account_sid)
            self._cache[account_sid] = (self._clock() + ttl, token)
            if len(self._cache) > 10_000:
                self._cache.clear()
            return token

    async def _fetch(self, account_sid: str) -> tuple[str | None, float]:
        if self._clients is None:
            self._clients = TwilioClients(self._settings)
        try:
            account = await asyncio.wait_for(
                self._clients.for_account().api.v2010.accounts(account_sid).fetch_async(), 5)
        except TwilioRestException as err:
            log.info("subaccount_unknown", account_sid=account_sid, status=err.status)
            return None, NOT_OURS_TTL
        except Exception as err:  # noqa: BLE001 - Twilio unreachable: refuse now (Twilio re-delivers)
            log.warning("subaccount_lookup_failed", account_sid=account_sid, error=str(err) or type(err).__name__)
            return None, 5.0
        if account.owner_account_sid != self._settings.twilio_account_sid or not account.auth_token:
            return None, NOT_OURS_TTL
        return account.auth_token, TOKEN_TTL

    async def close(self) -> None:
        if self._clients is not None:
            await self._clients.close()

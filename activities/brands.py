"""Messaging A2P brand registrations and the sole proprietor's OTP.

Idempotency (activities/lookup.py): a brand costs a fee and one of the mobile number's three
uses, so EVERY registration — first attempt or not — first looks for the brand made for the same
trust bundle (a sole proprietor trust bundle has one brand) among the account's brand
registrations, newest first, back to the registration's start (the workflow cannot always know it
is the first to register it: a reset run re-runs what its predecessor did), and reuses it. A
retried (or repeated) brand update first fetches the brand: if it is no longer FAILED, the earlier attempt went through
and is not repeated (each update counts against Twilio's limit of three). OTP re-sends are not
idempotent but harmless. They are kept under Twilio's 10 requests/s per account twice over: the
task queue they run on is rate-limited by Temporal across all workers, and each worker paces its
own re-sends evenly (Temporal's limiter lets short bursts through)."""

from __future__ import annotations

import asyncio
import time

from a2p.calls import BrandRef, BrandState, Call, Created, RegisterBrand
from a2p.constants import BRAND_TYPE_SOLE_PROPRIETOR, OTP_RESEND_RATE_PER_SECOND
from activities.errors import parse_errors, twilio_call
from activities.lookup import find_recent, made_since, may_exist
from activities.twilio_client import TwilioClients


def _brand_state(brand) -> BrandState:
    return BrandState(
        sid=brand.sid, status=brand.status, identity_status=brand.identity_status,
        errors=parse_errors(brand.errors), tcr_id=brand.tcr_id, mock=bool(brand.mock),
        created_at=brand.date_created, updated_at=brand.date_updated,
    )


class Pacer:
    """At most ``rate`` calls per second from this process, evenly spaced."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await asyncio.sleep(delay)


class BrandActivities:
    def __init__(self, clients: TwilioClients) -> None:
        self._clients = clients
        self._otp_pacer = Pacer(OTP_RESEND_RATE_PER_SECOND * 0.8)

    def _brands(self, subaccount_sid: str | None):
        return self._clients.for_account(subaccount_sid).messaging.v1.brand_registrations

    @twilio_call(Call.REGISTER_BRAND)
    async def register_brand(self, req: RegisterBrand) -> BrandState:
        brands = self._brands(req.subaccount_sid)
        found = await find_recent(brands, made_since(req), lambda b: b.a2p_profile_bundle_sid == req.trust_bundle_sid)
        if found is not None:
            return _brand_state(found)
        brand = await brands.create_async(
            customer_profile_bundle_sid=req.customer_profile_sid,
            a2p_profile_bundle_sid=req.trust_bundle_sid,
            brand_type=BRAND_TYPE_SOLE_PROPRIETOR,
            mock=req.mock,
        )
        return _brand_state(brand)

    @twilio_call(Call.FETCH_BRAND)
    async def fetch_brand(self, req: BrandRef) -> BrandState:
        return _brand_state(await self._brands(req.subaccount_sid)(req.brand_sid).fetch_async())

    @twilio_call(Call.UPDATE_BRAND)
    async def update_brand(self, req: BrandRef) -> BrandState:
        brand = self._brands(req.subaccount_sid)(req.brand_sid)
        if may_exist(req):
            current = await brand.fetch_async()
            if current.status != "FAILED":
                return _brand_state(current)
        return _brand_state(await brand.update_async())

    @twilio_call(Call.RESEND_OTP)
    async def resend_otp(self, req: BrandRef) -> Created:
        await self._otp_pacer.wait()
        await self._brands(req.subaccount_sid)(req.brand_sid).brand_registration_otps.create_async()
        return Created(sid=req.brand_sid)

"""What a retried create's lookup costs in a big account: ``python -m bench.lookups [--customers N]``.

Seeds one sandbox account with N customers' resources through the real twilio SDK (two end users,
an address document, a messaging service and a brand each; made a day ago, by the sandbox clock),
then runs each create activity as a
retry (attempt 2, ``temporalio.testing.ActivityEnvironment``) for one more customer, twice: when the
earlier attempt had made the resource (found, reused) and when it had not (nothing found, created).
Prints requests and seconds per lookup (the sandbox counts the requests), next to what reading the
whole list 50 a page — the SDK's default, and what a retry used to do — costs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import time
from datetime import datetime, timedelta, timezone

import aiohttp
from temporalio.testing import ActivityEnvironment

from a2p.calls import CreateAddressDocument, CreateEndUser, CreateMessagingService, RegisterBrand
from a2p.constants import ADDRESS_DOCUMENT_TYPE, SOLE_PROPRIETOR_TRUST_POLICY_SID, STARTER_PROFILE_POLICY_SID
from infra.logging import configure_logging
from activities import TwilioClients
from activities.brands import BrandActivities
from activities.campaigns import CampaignActivities
from activities.trust_hub import TrustHubActivities
from sandbox import defaults
from sandbox.testing import SandboxControl, SandboxProcess, twilio_client
from local_stack.stack import sandbox_settings

AGE = timedelta(days=1)  # how long ago the seeded customers signed up (sandbox time)



async def _bounded(n: int, concurrency: int, one) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def run(i: int) -> None:
        async with gate:
            await one(i)

    await asyncio.gather(*(run(i) for i in range(n)))


async def seed(sdk, customers: int, concurrency: int) -> dict:
    """N customers' resources in the parent account (what a big ISV's account holds)."""
    th, msg = sdk.trusthub.v1, sdk.messaging.v1
    address = await sdk.addresses.create_async(
        customer_name="Seed", street="1 Main St", city="Austin", region="TX", postal_code="78701",
        iso_country="US", friendly_name="seed address")
    profile = await th.customer_profiles.create_async(friendly_name="seed profile", email="seed@example.com",
                                                      policy_sid=STARTER_PROFILE_POLICY_SID)
    bundle = await th.trust_products.create_async(friendly_name="seed bundle", email="seed@example.com",
                                                  policy_sid=SOLE_PROPRIETOR_TRUST_POLICY_SID)

    async def customer(i: int) -> None:
        for attempt in range(5):  # the loaded sandbox may drop a kept-alive connection: try again
            try:
                return await make(i)
            except aiohttp.ClientError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5)

    async def make(i: int) -> None:
        for what in ("starter end user", "sole proprietor end user"):
            await th.end_users.create_async(friendly_name=f"seed-{i} {what}", type="individual"
                                            if what.startswith("starter") else "sole_proprietor_information",
                                            attributes={"first_name": "Seed"})
        await th.supporting_documents.create_async(friendly_name=f"seed-{i} address document",
                                                   type=ADDRESS_DOCUMENT_TYPE,
                                                   attributes={"address_sids": address.sid})
        await msg.services.create_async(friendly_name=f"seed-{i} (Messaging)")
        await msg.brand_registrations.create_async(customer_profile_bundle_sid=profile.sid,
                                                   a2p_profile_bundle_sid=bundle.sid,
                                                   brand_type="SOLE_PROPRIETOR", mock=True)

    await _bounded(customers, concurrency, customer)
    return {"address": address.sid, "profile": profile.sid}


async def measure(base_url: str, control: SandboxControl, sdk, seeded: dict) -> list[dict]:
    settings = sandbox_settings(base_url, "127.0.0.1:7233")
    clients = TwilioClients(settings)
    th, br, ca = TrustHubActivities(clients), BrandActivities(clients), CampaignActivities(clients)
    rows = []
    try:
        for made in (True, False):
            # The retried call's first attempt was scheduled just now (sandbox time): only what was
            # made since counts.
            first_attempt = datetime.fromtimestamp((await control.clock())["epoch"], timezone.utc)
            tag = f"retry-{'made' if made else 'lost'}"
            bundle = await sdk.trusthub.v1.trust_products.create_async(
                friendly_name=f"{tag} bundle", email="r@example.com", policy_sid=SOLE_PROPRIETOR_TRUST_POLICY_SID)
            calls = [
                ("create_end_user", "GET /v1/EndUsers", th.create_end_user,
                 CreateEndUser(friendly_name=f"{tag} starter end user", type="individual",
                               attributes={"first_name": "Retry"})),
                ("create_address_document", "GET /v1/SupportingDocuments", th.create_address_document,
                 CreateAddressDocument(friendly_name=f"{tag} address document", address_sid=seeded["address"])),
                ("create_messaging_service", "GET /v1/Services", ca.create_messaging_service,
                 CreateMessagingService(friendly_name=f"{tag} (Messaging)")),
                ("register_brand", "GET /v1/a2p/BrandRegistrations", br.register_brand,
                 RegisterBrand(customer_profile_sid=seeded["profile"], trust_bundle_sid=bundle.sid, mock=True)),
            ]
            env = ActivityEnvironment()
            env.info = dataclasses.replace(env.info, attempt=2, scheduled_time=first_attempt,
                                           workflow_id=f"a2p-registration-{tag}")
            for name, endpoint, fn, req in calls:
                earlier = None
                if made:  # the earlier attempt reached Twilio (its response was lost): made it once
                    earlier = (await _run(dataclasses.replace(env.info, attempt=1), fn, req)).sid
                before = await control.stats()
                started = time.perf_counter()
                result = await env.run(fn, req)
                seconds = time.perf_counter() - started
                after = await control.stats()
                rows.append({"call": name, "earlier attempt made it": made, "reused": result.sid == earlier,
                             "requests": _delta(before, after, endpoint), "seconds": seconds})
    finally:
        await clients.close()
    return rows


async def _run(info, fn, req):
    env = ActivityEnvironment()
    env.info = info
    return await env.run(fn, req)


def _delta(before: dict, after: dict, endpoint: str) -> int:
    return (sum(after["requests"].get(endpoint, {}).values())
            - sum(before["requests"].get(endpoint, {}).values()))


async def full_scan(sdk, control: SandboxControl) -> list[dict]:
    """What a retry used to do: stream the whole list, 50 a page (the SDK's default)."""
    rows = []
    th, msg = sdk.trusthub.v1, sdk.messaging.v1
    for name, endpoint, listing, page_size in (
            ("create_end_user", "GET /v1/EndUsers", th.end_users, None),
            ("create_address_document", "GET /v1/SupportingDocuments", th.supporting_documents, None),
            ("create_messaging_service", "GET /v1/Services", msg.services, 1000),
            ("register_brand", "GET /v1/a2p/BrandRegistrations", msg.brand_registrations, 1000)):
        before = await control.stats()
        started = time.perf_counter()
        n = 0
        async for _ in await listing.stream_async(page_size=page_size):
            n += 1
        seconds = time.perf_counter() - started
        rows.append({"call": name, "resources": n, "requests": _delta(before, await control.stats(), endpoint),
                     "seconds": seconds})
    return rows


async def main(customers: int, concurrency: int) -> None:
    async with SandboxProcess({"brand_review_seconds": 10 * AGE.total_seconds()}) as proc:
        async with SandboxControl(proc.base_url, timeout=120) as control:
            sdk = twilio_client(proc.base_url, defaults.PARENT_ACCOUNT_SID, defaults.PARENT_AUTH_TOKEN,
                                async_http=True)
            started = time.perf_counter()
            seeded = await seed(sdk, customers, concurrency)
            print(f"seeded {customers} customers' resources in one account in {time.perf_counter() - started:.0f} s")
            # The account's customers signed up over time, not all in the last minutes: a day ago.
            await control.advance_clock(AGE.total_seconds())
            rows = await measure(proc.base_url, control, sdk, seeded)
            old = await full_scan(sdk, control)
            await sdk.http_client.close()
    print(f"\nA retry's lookup with {customers:,} customers' resources in the account (sandbox, loopback):")
    print(f"{'call':<26}{'earlier attempt':<18}{'reused':<8}{'requests':>9}{'seconds':>9}")
    for r in rows:
        print(f"{r['call']:<26}{'made it' if r['earlier attempt made it'] else 'never reached':<18}"
              f"{str(r['reused']):<8}{r['requests']:>9}{r['seconds']:>9.3f}")
    print("\nReading the whole list (what a retry used to do), for comparison:")
    for r in old:
        print(f"{r['call']:<26}{r['resources']:>7,} resources{r['requests']:>9} requests{r['seconds']:>9.3f} s"
              f"   (50 a page: {math.ceil(r['resources'] / 50)} requests)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    configure_logging("WARNING")
    asyncio.run(main(args.customers, args.concurrency))

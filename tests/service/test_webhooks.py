"""Twilio's webhooks over real HTTP: only what Twilio signed (or the sink's Basic credentials)
becomes a signal; duplicates and stale events change nothing; unknown types and SIDs are
acknowledged and logged; while Temporal is unreachable the answer is 503, so Twilio re-delivers.

The target is one registration parked in NEEDS_ATTENTION (its brand FAILED: an unsupported mobile
number), so that only the webhooks sent here can change what it shows."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid

import httpx
import pytest
import structlog
from pydantic import SecretStr
from temporalio.client import Client

from a2p.progress import Phase
from infra.temporal_client import data_converter
from sandbox.testing import free_port
from starter.service import bind, create_app, serving, url_of
from tests.service.conftest import (
    TcpProxy, basic, brand_event, campaign_event, event_delivery, event_time, eventually, signals,
    trusthub_callback, wait_phase,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

WRONG_TOKEN = "0" * 32


@pytest.fixture(scope="module")
async def parked(stack):
    data = await stack.request(customer__mobile_number="+12025550198")  # the sandbox's unsupported mobile
    wid = await stack.start(data)
    status = await wait_phase(stack, wid, Phase.NEEDS_ATTENTION)
    assert status.statuses.brand == "FAILED" and status.problem.source == "brand", status.problem
    yield wid
    await stack.http.post(f"/v1/registrations/{wid}/actions/cancel", json={"reason": "tests over"})


async def snapshot(stack, wid: str) -> tuple[dict, list[str]]:
    """What the registration shows, and the signals it received."""
    return (await stack.status(wid)).model_dump(), await signals(stack.client, wid)


async def post_form(url: str, params: dict, headers: dict) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url, data=params, headers=headers)


async def post_body(url: str, body: bytes, headers: dict) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url, content=body, headers=headers)


@contextlib.contextmanager
def captured_logs():
    """Everything the service logs (all levels) while the block runs."""
    capture = structlog.testing.LogCapture()
    old = structlog.get_config()
    structlog.configure(processors=[capture], wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        yield capture.entries
    finally:
        structlog.configure(**old)


async def test_forged_unsigned_and_altered_webhooks_are_refused_without_a_signal(stack, parked):
    status = await stack.status(parked)
    profile, brand = status.sids.customer_profile, status.sids.brand
    before = await snapshot(stack, parked)

    # Trust Hub status callbacks (form POST).
    url, params, headers = trusthub_callback(stack.url, parked, bundle_sid=profile, status="twilio-approved")
    refused = [
        (url, params, {k: v for k, v in headers.items() if k != "X-Twilio-Signature"}),                 # unsigned
        trusthub_callback(stack.url, parked, bundle_sid=profile, status="twilio-approved", token=WRONG_TOKEN),  # forged
        (url, {**params, "Status": "twilio-rejected", "FailureReason": "forged"}, headers),              # altered body
        (url.replace(parked, "a2p-registration-someone-else"), params, headers),                         # another URL
    ]
    with captured_logs() as logs:
        for target, form, hdrs in refused:
            response = await post_form(target, form, hdrs)
            assert response.status_code == 403, (form, response.text)
    # Each refusal is logged, at most once per reason every 10 s (a flood of forgeries cannot flood the logs).
    logged = [e["reason"] for e in logs if e["event"] == "webhook_refused" and e["kind"] == "trusthub"]
    assert logged and len(logged) == len(set(logged)) <= len(refused), logged

    # Event Streams (JSON, bodySHA256 in the URL).
    event = brand_event(brand, "brand-registered", status="APPROVED", identity="UNVERIFIED")
    url, body, headers = event_delivery(stack.url, [event])
    altered = event_delivery(stack.url, [{**event, "data": {**event["data"], "brandstatus": "FAILED"}}])[1]
    plain_url, _, plain_headers = event_delivery(stack.url, [event], token=None)
    forged_url, _, forged_headers = event_delivery(stack.url, [event], token=WRONG_TOKEN)
    rehashed_url, _, _ = event_delivery(stack.url, [{**event, "id": "EZ-replayed"}])
    refused = [
        (plain_url, body, plain_headers),                                          # unsigned
        (url, body, {"Content-Type": "application/json"}),                         # bodySHA256 but no signature
        (forged_url, body, forged_headers),                                        # forged
        (url, altered, headers),                                                   # replayed with an altered body
        (rehashed_url, altered, headers),                                          # ... and its hash in the URL
        (plain_url, body, {**plain_headers, "Authorization": basic("twilio", "guess")}),  # Basic: not configured
    ]
    for target, content, hdrs in refused:
        response = await post_body(target, content, hdrs)
        assert response.status_code == 403, (target, response.text)

    assert await snapshot(stack, parked) == before  # no signal, nothing changed

    # The genuine ones go through (the same URL, body and signature as Twilio's). The callback goes
    # to a service of its own: this one has had the sandbox's callback of the same content (a replay).
    async with serving(create_app(stack.settings.model_copy(update={"a2p_public_base_url": None}),
                                  stack.client)) as fresh:
        genuine = trusthub_callback(fresh, parked, bundle_sid=profile, status=before[0]["statuses"]["customer_profile"])
        assert (await post_form(*genuine)).status_code == 204
    same = brand_event(brand, "brand-unverified", status="FAILED", identity="UNVERIFIED")
    assert (await post_body(*event_delivery(stack.url, [same]))).status_code == 204
    after_status, after_signals = await snapshot(stack, parked)
    assert after_signals == before[1] + ["bundle_event", "brand_event"]
    # They told the registration nothing new: nothing changed, not even its timeline.
    assert after_status["statuses"] == before[0]["statuses"] and after_status["timeline"] == before[0]["timeline"]


async def test_duplicate_and_out_of_order_events_keep_the_newest_state(stack, parked):
    brand = (await stack.status(parked)).sids.brand
    older_time, newer_time = event_time(), event_time()
    newer = brand_event(brand, "brand-registered", status="APPROVED", identity="UNVERIFIED", at=newer_time)
    older = brand_event(brand, "brand-failure", status="FAILED", identity="UNVERIFIED", at=older_time,
                        errors=[{"code": 30751, "message": "unsupported mobile"}])
    received = len(await signals(stack.client, parked))

    for delivery in ([newer], [newer], [older]):  # the newest twice, then one that happened before it
        assert (await post_body(*event_delivery(stack.url, delivery))).status_code == 204
    # The duplicate (same event id) is not even signalled; the older one is, and changes nothing.
    await eventually(lambda: _signal_count(stack, parked, received + 2), what="two signals")
    status = await stack.status(parked)
    assert (status.statuses.brand, status.statuses.identity) == ("APPROVED", "UNVERIFIED")
    view = (await stack.http.get(f"/v1/registrations/{parked}")).json()
    assert view["status"]["statuses"]["brand"] == "APPROVED"

    # In one delivery, out of order, with events seen before: only the new one is signalled, and
    # a newer failure wins again.
    newest = brand_event(brand, "brand-failure", status="FAILED", identity="UNVERIFIED")
    assert (await post_body(*event_delivery(stack.url, [newest, newer, older]))).status_code == 204
    await eventually(lambda: _signal_count(stack, parked, received + 3), what="three signals")
    status = await stack.status(parked)
    assert status.statuses.brand == "FAILED" and status.phase == Phase.NEEDS_ATTENTION
    assert len(await signals(stack.client, parked)) == received + 3


async def _signal_count(stack, wid: str, n: int) -> bool:
    return len(await signals(stack.client, wid)) >= n


async def test_unknown_event_types_and_sids_are_acknowledged_and_logged(stack, parked):
    brand = (await stack.status(parked)).sids.brand
    before = await snapshot(stack, parked)
    unknown_brand = "BN" + uuid.uuid4().hex
    unknown = [
        {**brand_event(brand, "brand-renamed", status="APPROVED", identity="VERIFIED")},
        {**brand_event(brand, "x", status="APPROVED", identity="VERIFIED"),
         "type": "com.twilio.messaging.message.delivered"},
        {**brand_event(brand, "x", status="APPROVED", identity="VERIFIED"), "type": "com.example.brand-registered"},
        brand_event(unknown_brand, "brand-registered", status="APPROVED", identity="VERIFIED"),
        brand_event("BN' OR A2PPhase != '", "brand-registered", status="APPROVED", identity="VERIFIED"),
        campaign_event("QE" + uuid.uuid4().hex, "campaign-approved", status="VERIFIED", brand_sid=unknown_brand),
        {**brand_event(brand, "brand-registered", status="APPROVED", identity=None), "data": None},
        "not an event", 42, None,
    ]
    with captured_logs() as logs:
        for delivery in (unknown, unknown[0], [], {"specversion": "1.0"}):
            response = await post_body(*event_delivery(stack.url, delivery))
            assert response.status_code == 204, response.text
        response = await post_body(*event_delivery(stack.url, "a string"))
        assert response.status_code == 204
        # Callbacks for a registration that does not exist, or without one, are acknowledged too.
        for wid in ("a2p-registration-nobody", None):
            callback = trusthub_callback(stack.url, wid, bundle_sid="BU" + "0" * 32, status="in-review")
            assert (await post_form(*callback)).status_code == 204
        # A signed body that is not JSON at all cannot be from Twilio: 400, nothing else.
        assert (await post_body(*event_delivery(stack.url, b"{oops"))).status_code == 400

    reasons = [(e.get("type"), e.get("reason")) for e in logs if e["event"] == "event_ignored"]
    assert ("com.twilio.messaging.compliance.brand-registration.brand-renamed", "unknown event type") in reasons
    assert ("com.twilio.messaging.message.delivered", "unknown event type") in reasons
    assert ("com.example.brand-registered", "unknown event type") in reasons
    assert sum(1 for r in reasons if r[1] == "no registration owns this SID") == 3, reasons  # BN, BN', QE
    assert sum(1 for r in reasons if r[1] == "not a JSON object") == 3
    assert any(e["event"] == "webhook_for_unknown_registration" and e["workflow_id"] == "a2p-registration-nobody"
               for e in logs)
    assert any(e["event"] == "webhook_ignored" and e["kind"] == "trusthub" for e in logs)
    assert not [e for e in logs if e.get("log_level") in ("error", "critical")]

    # The event without data names no SID: ignored too. Nothing reached the registration...
    assert await snapshot(stack, parked) == before
    # ... and the service still delivers what is genuine.
    assert (await post_body(*event_delivery(stack.url, [brand_event(
        brand, "brand-unverified", status="FAILED", identity="UNVERIFIED")]))).status_code == 204
    assert (await signals(stack.client, parked)) == before[1] + ["brand_event"]


async def test_event_sink_with_basic_credentials(stack, parked):
    """Event Streams sinks may carry Basic credentials instead of being signed."""
    settings = stack.settings.model_copy(update={"a2p_event_sink_username": "twilio",
                                                 "a2p_event_sink_password": SecretStr("s3cret")})
    brand = (await stack.status(parked)).sids.brand
    received = await signals(stack.client, parked)
    async with serving(create_app(settings, stack.client)) as url:
        event = [brand_event(brand, "brand-unverified", status="FAILED", identity="UNVERIFIED")]
        _, body, headers = event_delivery(url, event, token=None)
        for credentials in (basic("twilio", "wrong"), basic("someone", "s3cret"), "Basic !!!", "Bearer s3cret"):
            response = await post_body(f"{url}/webhooks/events", body, {**headers, "Authorization": credentials})
            assert response.status_code == 403, credentials
        response = await post_body(f"{url}/webhooks/events", body,
                                   {**headers, "Authorization": basic("twilio", "s3cret")})
        assert response.status_code == 204
    assert await signals(stack.client, parked) == received + ["brand_event"]


async def test_webhooks_while_temporal_is_unreachable_are_503_and_redelivered(stack, parked):
    status = await stack.status(parked)
    proxy = await TcpProxy(stack.client.service_client.config.target_host).start()
    client = await Client.connect(proxy.address, namespace=stack.settings.temporal_namespace,
                                  data_converter=data_converter(stack.settings))
    sock = bind()
    url = url_of(sock)
    settings = stack.settings.model_copy(update={"a2p_public_base_url": url})
    event = brand_event(status.sids.brand, "brand-unverified", status="FAILED", identity="UNVERIFIED")
    callback = trusthub_callback(url, parked, bundle_sid=status.sids.customer_profile,
                                 status=status.statuses.customer_profile)
    delivery = event_delivery(url, [event])
    async with serving(create_app(settings, client, webhook_budget_seconds=1.0), sock=sock):
        received = await signals(stack.client, parked)
        await proxy.cut()
        t0 = time.monotonic()
        assert (await post_form(*callback)).status_code == 503
        assert (await post_body(*delivery)).status_code == 503
        assert time.monotonic() - t0 < 4.5  # both answered within Twilio's 5 s
        # Twilio re-delivers (the same requests) once the frontend is back: accepted and signalled.
        await proxy.restore()
        assert (await post_form(*callback)).status_code == 204
        assert (await post_body(*delivery)).status_code == 204
    got = await signals(stack.client, parked)
    assert got[: len(received)] == received and {"bundle_event", "brand_event"} <= set(got[len(received):])
    await proxy.cut()

    # A service whose Temporal cannot be reached at all: the API answers 503 too.
    dead = await Client.connect(f"127.0.0.1:{free_port()}", data_converter=data_converter(stack.settings), lazy=True)
    async with serving(create_app(stack.settings, dead)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=stack.http.headers) as http:
            assert (await http.get(f"/v1/registrations/{parked}")).status_code == 503
            assert (await http.get("/v1/registrations")).status_code == 503
            response = await http.post("/v1/registrations", json=await stack.request())
            assert response.status_code == 503 and response.headers["Retry-After"]
        callback = trusthub_callback(stack.url, parked, bundle_sid=status.sids.customer_profile, status="in-review")
        assert (await post_form(callback[0].replace(stack.url, url), callback[1], callback[2])).status_code == 503

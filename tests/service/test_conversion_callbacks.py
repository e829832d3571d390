"""A legacy conversion points the customer's existing trust bundle at the registration service's
status callback before resubmitting it, so Twilio's detailed review results reach the workflow —
real HTTP end to end (service, sandbox, dev server)."""

from __future__ import annotations

import uuid

import pytest

from a2p.progress import Phase
from starter import registrations
from tests.service.conftest import TIMINGS, _mobiles, answer_otp, eventually, signals, wait_phase

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_legacy_conversion_receives_its_trust_bundle_status_by_callback(stack):
    legacy = await stack.control.legacy_fixture(
        first_name="Jane", last_name="Doe", email="jane.doe@example.com", phone_number="+14155550100",
        address={"street": "1 Jersey St", "city": "Boston", "region": "MA", "postal_code": "02215",
                 "iso_country": "US"})
    bundle_sid = legacy["trust_product_sid"]
    [before] = (await stack.control.resources("trust_products", sid=bundle_sid))["resources"]
    assert not before["status_callback"]  # Twilio's converted bundle has none of ours
    mobile = f"+1415555{next(_mobiles):04d}"
    response = await stack.http.post("/v1/conversions", json={
        "isv_customer_id": f"svc-conv-{uuid.uuid4().hex[:8]}", "trust_bundle_sid": bundle_sid,
        "brand_sid": legacy["brand_sid"], "brand_name": "Jane Doe Bakery", "mobile_number": mobile,
        "timings": TIMINGS.model_dump(mode="json")})
    assert response.status_code == 201, response.text
    wid = response.json()["workflow_id"]

    await wait_phase(stack, wid, Phase.OTP_VERIFICATION)
    [bundle] = (await stack.control.resources("trust_products", sid=bundle_sid))["resources"]
    assert bundle["status_callback"].startswith(f"{stack.url}/webhooks/trusthub")

    async def delivered():
        attempts = (await stack.control.webhooks())["attempts"]
        return any("/webhooks/trusthub" in a["url"] and a["ok"] for a in attempts) and \
            "bundle_event" in await signals(stack.client, wid)
    await eventually(delivered, timeout=45, what="the trust bundle's status callback reached the conversion")
    await answer_otp(stack.control, mobile)
    final = await registrations.final_status(stack.client, wid)
    assert final.phase == Phase.COMPLETED and final.flow == "legacy"

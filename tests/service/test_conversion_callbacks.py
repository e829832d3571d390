"""A legacy conversion points the customer's existing trust bundle at the registration service's
status callback before resubmitting it, so Twilio's detailed review results reach the workflow —
real HTTP end to end (service, sandbox, dev server): the resubmitted bundle is rejected, the
rejection and its FailureReason arrive by callback and are what the problem says, and a correction
then carries the conversion to its end."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.enums.v1 import EventType

from a2p.progress import BundleEvent, Phase
from a2p.requests import Correction
from starter import registrations
from tests.factories import record_history
from tests.service.conftest import TIMINGS, _mobiles, answer_otp, eventually, wait_phase

pytestmark = pytest.mark.asyncio(loop_scope="session")

# A reason of Twilio's reviewers that no input of the sandbox's scenarios produces.
REVIEWER_REASON = "The brand name does not match the name of the customer on the Starter customer profile."


async def bundle_events(client, workflow_id: str) -> list[BundleEvent]:
    """The bundle status callbacks the workflow was signalled with (by the service), in order."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    found = []
    for event in history.events:
        attrs = event.workflow_execution_signaled_event_attributes
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED and attrs.signal_name == "bundle_event":
            [signalled] = await client.data_converter.decode(attrs.input.payloads, [BundleEvent])
            found.append(signalled)
    return found


async def test_legacy_conversion_receives_its_trust_bundle_rejection_by_callback(stack):
    legacy = await stack.control.legacy_fixture(
        first_name="Jane", last_name="Doe", email="jane.doe@example.com", phone_number="+14155550100",
        address={"street": "1 Jersey St", "city": "Boston", "region": "MA", "postal_code": "02215",
                 "iso_country": "US"})
    bundle_sid = legacy["trust_product_sid"]
    [before] = (await stack.control.resources("trust_products", sid=bundle_sid))["resources"]
    assert not before["status_callback"]  # Twilio's converted bundle has none of ours
    await stack.control.reject_bundle_reviews(bundle_sid, REVIEWER_REASON)
    mobile = f"+1415555{next(_mobiles):04d}"
    response = await stack.http.post("/v1/conversions", json={
        "isv_customer_id": f"svc-conv-{uuid.uuid4().hex[:8]}", "trust_bundle_sid": bundle_sid,
        "brand_sid": legacy["brand_sid"], "brand_name": "Jane Doe Bakery", "mobile_number": mobile,
        "timings": TIMINGS.model_dump(mode="json")})
    assert response.status_code == 201, response.text
    wid = response.json()["workflow_id"]

    status = await wait_phase(stack, wid, Phase.NEEDS_ATTENTION)
    [bundle] = (await stack.control.resources("trust_products", sid=bundle_sid))["resources"]
    assert bundle["status_callback"].startswith(f"{stack.url}/webhooks/trusthub")
    assert bundle["status"] == "twilio-rejected" and bundle["sandbox"]["submissions"] == 2, bundle

    async def rejection_signalled() -> list[BundleEvent]:
        return [e for e in await bundle_events(stack.client, wid) if e.status == "twilio-rejected"]
    [rejected] = await eventually(rejection_signalled, timeout=45,
                                  what="the trust bundle's rejection callback signalled to the conversion")
    assert (rejected.bundle_sid, rejected.failure_reason) == (bundle_sid, REVIEWER_REASON)
    assert rejected.event_id  # the delivery's idempotency token: a callback, not a poll
    problem = status.problem
    assert problem.source == "trust_bundle" and REVIEWER_REASON in problem.summary, problem
    assert problem.correction_fields == ["brand_name", "mobile_number", "vertical"], problem
    assert legacy["brand_sid"] == status.sids.brand and status.brand_updates_used == 0  # the brand was left alone

    # The way forward: a correction resubmits the bundle (the reviewer satisfied this time), then
    # the brand is updated and the customer answers the OTP.
    await stack.control.reject_bundle_reviews(bundle_sid, None)
    await registrations.correct(stack.client, wid, Correction(brand_name="Jane Doe"))
    await wait_phase(stack, wid, Phase.OTP_VERIFICATION)
    await answer_otp(stack.control, mobile)
    final = await registrations.final_status(stack.client, wid)
    assert final.phase == Phase.COMPLETED and final.flow == "legacy" and final.brand_updates_used == 1
    await record_history(stack.client, wid, "legacy_conversion_bundle_rejected_by_callback")

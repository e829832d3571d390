"""Every Twilio failure has a way forward, walked on the real dev server against the sandbox: each
test asserts where the registration ends and which Twilio calls were made (sandbox stats) — no
brand update spent in vain, nothing sent to TCR on data Twilio already rejected, never two live
campaigns, and states only a person can resolve parked once with the action to take."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from a2p.progress import BrandEvent, BundleEvent, OperatorDecision, Phase
from a2p.requests import Correction
from starter import registrations
from tests.factories import answer_otp, record_history, wait_phase, wait_until
from tests.integration.conftest import FAST

pytestmark = pytest.mark.asyncio(loop_scope="session")

FLOW_WITH_OPT_IN = ("Customers opt in by texting JOIN to the number on the bakery's counter sign; "
                    "consent is recorded at sign up.")
FLOW_WITHOUT_OPT_IN = "Customers give their mobile number at the front desk when they book an appointment."


async def start(client, settings, task_queue, request) -> str:
    started = await registrations.start_registration(client, settings, request, task_queue=task_queue)
    assert started.created
    return started.workflow_id


class Calls:
    """Twilio requests made since it was taken (sandbox stats), by endpoint."""

    def __init__(self, before: dict) -> None:
        self.before = before

    @classmethod
    async def now(cls, control) -> "Calls":
        return cls((await control.stats())["requests"])

    async def since(self, control) -> dict[str, int]:
        after = (await control.stats())["requests"]
        return {k: sum(v.values()) - sum(self.before.get(k, {}).values()) for k, v in after.items()
                if sum(v.values()) - sum(self.before.get(k, {}).values())}


BRAND_CREATE, BRAND_UPDATE = "POST /v1/a2p/BrandRegistrations", "POST /v1/a2p/BrandRegistrations/{Sid}"
CAMPAIGN_CREATE = "POST /v1/Services/{Sid}/Compliance/Usa2p"
CAMPAIGN_UPDATE, CAMPAIGN_DELETE = (f"{CAMPAIGN_CREATE}/{{Sid}}", f"DELETE /v1/Services/{{Sid}}/Compliance/Usa2p/{{Sid}}")
SMS_OTP = "POST /v1/a2p/BrandRegistrations/{Sid}/SmsOtp"


async def complete(client, control, wid, mobile_number):
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, mobile_number)
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.COMPLETED, final.model_dump_json(indent=1)
    return final


# ---- customer profile ------------------------------------------------------------------------


async def test_rejected_email_is_fixed_on_the_bundle_and_no_brand_update_is_spent(
        client, settings, task_queue, customer, control):
    # A settle wait longer than the profile review (as the seed's 30 s are): the rejection is seen
    # before the brand is registered.
    timings = FAST.model_copy(update={"settle_wait": timedelta(seconds=1.6)})
    request = customer.request(timings=timings, customer__email="jane@disposable.test")
    calls = await Calls.now(control)
    wid = await start(client, settings, task_queue, request)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "customer_profile" and "disposable" in status.problem.summary
    assert "email" in status.problem.correction_fields and "correction" in status.problem.accepts

    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await complete(client, control, wid, request.customer.mobile_number)
    assert final.brand_updates_used == 0
    [profile] = await customer.resources("customer_profiles")
    assert profile["email"] == "jane.doe@example.com"  # where Twilio's email check runs
    made = await calls.since(control)
    assert made.get(BRAND_CREATE) == 1 and BRAND_UPDATE not in made, made
    assert made.get("POST /v1/CustomerProfiles/{Sid}") == 3  # submit, email update, resubmit


async def test_profile_rejected_during_the_trust_bundle_phase_stops_before_tcr(
        client, settings, task_queue, customer, control):
    request = customer.request(customer__email="jane@disposable.test")
    calls = await Calls.now(control)
    # Hold the registration in its trust bundle phase (creating the trust bundle answers 500), and
    # the profile's review until the test moves the sandbox's clock.
    await control.set_config(profile_review_seconds=3600)
    await control.set_faults(rate_500=1.0, path_regex=r"^/v1/TrustProducts$", methods=["POST"])
    try:
        wid = await start(client, settings, task_queue, request)
        status = await wait_phase(client, wid, Phase.TRUST_BUNDLE)
        await control.advance_clock(3600)
        [profile] = await customer.resources("customer_profiles")
        assert profile["status"] == "twilio-rejected"
        # The status callback, as the registration service signals it.
        await client.get_workflow_handle(wid).signal("bundle_event", BundleEvent(
            bundle_sid=status.sids.customer_profile, status="twilio-rejected",
            failure_reason=profile["errors"][0]["message"]))
    finally:
        await control.clear_faults()
        await control.set_config(profile_review_seconds=1)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "customer_profile" and status.sids.trust_bundle is not None
    assert status.sids.brand is None and BRAND_CREATE not in await calls.since(control)

    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await complete(client, control, wid, request.customer.mobile_number)
    assert final.brand_updates_used == 0 and (await calls.since(control)).get(BRAND_CREATE) == 1


async def test_starter_profile_correction_resubmits_profile_then_trust_bundle_then_updates_the_brand(
        client, settings, task_queue, customer, control):
    # The rejection surfaces only after the brand was registered (settle wait shorter than the
    # review, no callbacks): the brand FAILS on the rejected profile.
    request = customer.request(customer__email="jane@disposable.test")
    await control.set_config(profile_review_seconds=3600)
    try:
        wid = await start(client, settings, task_queue, request)
        await wait_until(client, wid, lambda s: s.sids.brand is not None, what="brand registered")
    finally:
        await control.set_config(profile_review_seconds=1)
    await control.advance_clock(3600)  # the profile's review rejects it; then the brand's review fails it
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand" and status.statuses.brand == "FAILED"

    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await complete(client, control, wid, request.customer.mobile_number)
    assert final.brand_updates_used == 1
    notes = [e.note for e in final.timeline]
    order = [next(i for i, n in enumerate(notes) if n.startswith(prefix) and i > notes.index("correction applied"))
             for prefix in ("customer profile submitted", "trust bundle submitted", "brand updated")]
    assert order == sorted(order), notes
    [profile], [bundle] = await customer.resources("customer_profiles"), await customer.resources("trust_products")
    assert profile["email"] == "jane.doe@example.com"
    assert profile["sandbox"]["submissions"] == 2 and bundle["sandbox"]["submissions"] == 2
    await record_history(client, wid, "new_registration_profile_correction_brand_update")


# ---- campaign --------------------------------------------------------------------------------


async def campaign_failed(client, settings, task_queue, customer, control):
    """A registration whose campaign Twilio FAILED (no opt-in in its message flow), parked:
    (workflow id, Twilio calls since before it started, its status)."""
    request = customer.request(campaign__message_flow=FLOW_WITHOUT_OPT_IN)
    calls = await Calls.now(control)
    wid = await start(client, settings, task_queue, request)
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, request.customer.mobile_number)
    return wid, calls, await wait_phase(client, wid, Phase.NEEDS_ATTENTION)


async def test_failed_campaign_is_corrected_and_verified_with_one_campaign(
        client, settings, task_queue, customer, control):
    wid, calls, status = await campaign_failed(client, settings, task_queue, customer, control)
    problem = status.problem
    assert problem.source == "campaign" and problem.correction_fields == ["campaign"]
    assert any(e.code == 30896 for e in problem.errors) and "30896" in problem.summary
    assert any(x.startswith("30896") for x in problem.explanations)
    # Checked against the whole campaign once merged: answering STOP/HELP yourself needs the
    # opt-out and help texts, which this campaign lacks — refused, nothing sent.
    with pytest.raises(registrations.UpdateRefused, match="opt_out_message"):
        await registrations.correct(client, wid, Correction(campaign={"use_twilio_default_opt_out": False}))

    await registrations.correct(client, wid, Correction(campaign={"message_flow": FLOW_WITH_OPT_IN}))
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED"
    [campaign] = await customer.resources("campaigns")
    assert campaign["sid"] == final.sids.campaign and campaign["message_flow"] == FLOW_WITH_OPT_IN
    made = await calls.since(control)
    assert made.get(CAMPAIGN_CREATE) == 1 and made.get(CAMPAIGN_UPDATE) == 1 and CAMPAIGN_DELETE not in made, made
    await record_history(client, wid, "new_registration_campaign_correction")


async def test_campaign_twilio_will_not_edit_is_deleted_and_created_again(
        client, settings, task_queue, customer, control):
    wid, calls, status = await campaign_failed(client, settings, task_queue, customer, control)
    first = status.sids.campaign

    await control.set_config(campaign_updates_supported=False)
    try:
        await registrations.correct(client, wid, Correction(campaign={"message_flow": FLOW_WITH_OPT_IN}))
    finally:
        await control.set_config(campaign_updates_supported=True)
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED"
    assert final.sids.campaign != first
    assert [c["sid"] for c in await customer.resources("campaigns")] == [final.sids.campaign]
    made = await calls.since(control)
    assert made.get(CAMPAIGN_CREATE) == 2 and made.get(CAMPAIGN_DELETE) == 1, made


async def test_campaign_suspended_waits_for_a_person(client, settings, task_queue, customer, control):
    request = customer.request()
    wid = await start(client, settings, task_queue, request)
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await control.set_config(campaign_review_seconds=60)  # keep it in review while we suspend it
    try:
        await answer_otp(control, request.customer.mobile_number)
        status = await wait_until(client, wid, lambda s: s.sids.campaign is not None, what="campaign created")
    finally:
        await control.set_config(campaign_review_seconds=1)
    await control.set_campaign_status(status.sids.campaign, "SUSPENDED")
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "campaign" and status.problem.accepts == ["retry", "end"]
    assert "Support" in status.problem.remedy
    await registrations.decide(client, wid, OperatorDecision(action="end"))
    assert (await registrations.final_status(client, wid)).phase == Phase.FAILED


# ---- brand states a person must resolve ----------------------------------------------------------


@pytest.mark.parametrize("brand_status, remedy", [
    ("SUSPENDED", "Twilio Support"),
    ("EXPIRED", "deleted"),
    ("DELETION_PENDING", "being deleted"),
    ("DELETION_FAILED", "Twilio Support"),
])
async def test_brand_state_only_a_person_can_resolve_is_parked_once(
        client, settings, task_queue, customer, control, brand_status, remedy):
    request = customer.request()
    wid = await start(client, settings, task_queue, request)
    status = await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    calls = await Calls.now(control)
    await control.set_brand_status(status.sids.brand, brand_status)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand" and status.problem.accepts == ["retry", "end"]
    assert remedy in status.problem.remedy and brand_status in status.problem.summary
    # 'retry' re-reads the brand once; still in that state, it is parked again — no loop.
    await registrations.decide(client, wid, OperatorDecision(action="retry"))
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    made = await calls.since(control)
    assert made.get("GET /v1/a2p/BrandRegistrations/{Sid}", 0) <= 2 and SMS_OTP not in made, made
    await registrations.decide(client, wid, OperatorDecision(action="end"))
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.FAILED and final.statuses.brand == brand_status


async def test_suspended_brand_carries_on_once_support_reinstated_it(client, settings, task_queue, customer, control):
    request = customer.request()
    wid = await start(client, settings, task_queue, request)
    brand = (await wait_phase(client, wid, Phase.OTP_VERIFICATION)).sids.brand
    await control.set_brand_status(brand, "SUSPENDED")
    await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    await control.set_brand_status(brand, "APPROVED", identity_status="UNVERIFIED")
    status = await registrations.decide(client, wid, OperatorDecision(action="retry"))
    assert status.phase == Phase.OTP_VERIFICATION  # answered with the status after its effect
    await complete(client, control, wid, request.customer.mobile_number)
    await record_history(client, wid, "new_registration_brand_suspended_then_reinstated")


async def test_brand_in_review_is_still_a_review(client, settings, task_queue, customer, control):
    await control.set_config(brand_review_seconds=60)
    try:
        request = customer.request()
        wid = await start(client, settings, task_queue, request)
        status = await wait_until(client, wid, lambda s: s.statuses.brand == "PENDING", what="brand registered")
        await control.set_brand_status(status.sids.brand, "IN_REVIEW")
        await wait_until(client, wid, lambda s: s.statuses.brand == "IN_REVIEW" and s.phase == Phase.BRAND_REVIEW,
                         what="brand IN_REVIEW")
        await control.set_brand_status(status.sids.brand, "APPROVED", identity_status="UNVERIFIED")
    finally:
        await control.set_config(brand_review_seconds=1.5)
    final = await complete(client, control, wid, request.customer.mobile_number)
    assert final.brand_updates_used == 0


async def test_update_limit_reached_at_twilio_is_parked_for_support(client, settings, task_queue, customer, control):
    request = customer.request(customer__mobile_number="+12025550199")  # already in 3 brands: FAILED 30712
    wid = await start(client, settings, task_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    # Updates made outside this registration (the Console) used up the brand's three.
    await control.set_brand_status(status.sids.brand, "FAILED", update_count=3)
    calls = await Calls.now(control)
    await registrations.correct(client, wid, Correction(mobile_number=customer.mobile_number))
    status = await wait_until(client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION and s.problem
                              and any(e.code == 21724 for e in s.problem.errors), what="21724 parked")
    assert status.problem.accepts == ["retry", "end"] and "Twilio Support" in status.problem.remedy
    assert any(x.startswith("21724") for x in status.problem.explanations)
    assert (await calls.since(control)).get(BRAND_UPDATE) == 1
    await registrations.decide(client, wid, OperatorDecision(action="end"))
    assert (await registrations.final_status(client, wid)).phase == Phase.FAILED


# ---- OTP ------------------------------------------------------------------------------------------


async def test_otp_resend_refused_because_the_customer_answered_meanwhile_carries_on(
        client, settings, task_queue, customer, control):
    # Status polls far apart: the registration learns of the YES only through the refused re-send.
    timings = FAST.model_copy(update={"poll_initial": timedelta(seconds=60), "poll_max": timedelta(seconds=60),
                                      "otp_resend_interval": timedelta(minutes=10), "otp_deadline": timedelta(hours=1)})
    request = customer.request(timings=timings)
    wid = await start(client, settings, task_queue, request)
    brand_sid = (await wait_until(client, wid, lambda s: s.sids.brand is not None, what="brand registered")).sids.brand

    async def approved():
        return (await control.resources("brands", sid=brand_sid))["resources"][0]["status"] == "APPROVED"
    await control.wait_until(approved, timeout=20)
    # Twilio's brand event, as the registration service signals it.
    await client.get_workflow_handle(wid).signal("brand_event", BrandEvent(
        event_id=f"ev-{brand_sid}", occurred_at=datetime.now(timezone.utc), brand_sid=brand_sid,
        status="APPROVED", identity_status="UNVERIFIED"))
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    reply = await answer_otp(control, request.customer.mobile_number)
    assert reply["accepted"] and reply["identity_status"] == "VERIFIED", reply

    status = await registrations.resend_otp(client, wid)  # on its way while the customer said YES
    assert status.statuses.identity == "VERIFIED" and status.phase != Phase.NEEDS_ATTENTION
    status = await wait_phase(client, wid, Phase.CAMPAIGN)  # on to the campaign: nothing parked
    assert status.otp.resends == 0 and status.otp.verified_at is not None
    assert any(e.note.startswith("OTP re-send refused") for e in status.timeline)
    assert not any(e.phase == Phase.NEEDS_ATTENTION for e in status.timeline)
    final = await registrations.cancel(client, wid, "test done: campaign vetting polls are 60 s apart here")
    assert final.phase == Phase.CANCELLED

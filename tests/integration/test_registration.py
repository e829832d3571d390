"""New sole proprietor registrations on the real dev server, against the sandbox over HTTP, with
compressed timings: each test asserts the final state a user would see and what exists at Twilio."""

from __future__ import annotations

import pytest

from a2p.progress import OperatorDecision, Phase
from a2p.requests import Correction
from starter import registrations
from tests.factories import answer_otp, eventually, record_history, wait_phase, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="session")

async def start(client, settings, task_queue, request):
    started = await registrations.start_registration(client, settings, request, task_queue=task_queue)
    assert started.created
    return started.workflow_id


async def result(client, workflow_id):
    return await registrations.final_status(client, workflow_id)


async def assert_one_of_each(customer, kinds=("customer_profiles", "trust_products", "brands",
                                               "services", "campaigns")):
    counts = {kind: await customer.count(kind) for kind in kinds}
    assert counts == {kind: 1 for kind in kinds}, counts


async def test_happy_path_reaches_a_verified_campaign(client, settings, task_queue, customer, control):
    request = customer.request()
    before = await control.stats(customer.subaccount_sid)
    wid = await start(client, settings, task_queue, request)

    status = await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    assert status.statuses.brand == "APPROVED" and status.statuses.identity == "UNVERIFIED"
    assert status.otp.sent == 1 and status.otp.deadline_at is not None
    reply = await answer_otp(control, request.customer.mobile_number)
    assert reply["accepted"], reply

    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED
    assert final.statuses.identity == "VERIFIED" and final.statuses.campaign == "VERIFIED"
    sids = final.sids
    for name, prefix in (("customer_profile", "BU"), ("starter_end_user", "IT"), ("address", "AD"),
                         ("address_document", "RD"), ("trust_bundle", "BU"), ("sole_proprietor_end_user", "IT"),
                         ("brand", "BN"), ("messaging_service", "MG"), ("campaign", "QE")):
        assert getattr(sids, name).startswith(prefix), (name, getattr(sids, name))
    assert sids.phone_number == customer.phone_number_sid
    await assert_one_of_each(customer)

    # The Twilio calls of seed 000, sections 1-4, each once (no retries were needed), as this
    # customer's subaccount made them.
    after = await control.stats(customer.subaccount_sid)
    made = {k: sum(v.values()) - sum(before["requests"].get(k, {}).values()) for k, v in after["requests"].items()}
    for endpoint, times in {
        "POST /v1/CustomerProfiles": 1, "POST /v1/EndUsers": 2,
        "POST /2010-04-01/Accounts/{Sid}/Addresses.json": 1, "POST /v1/SupportingDocuments": 1,
        "POST /v1/CustomerProfiles/{Sid}/EntityAssignments": 3, "POST /v1/CustomerProfiles/{Sid}/Evaluations": 1,
        "POST /v1/TrustProducts": 1, "POST /v1/TrustProducts/{Sid}/EntityAssignments": 2,
        "POST /v1/TrustProducts/{Sid}/Evaluations": 1, "POST /v1/a2p/BrandRegistrations": 1,
        "POST /v1/Services": 1, "POST /v1/Services/{Sid}/PhoneNumbers": 1,
        "POST /v1/Services/{Sid}/Compliance/Usa2p": 1,
    }.items():
        assert made.get(endpoint) == times, (endpoint, made.get(endpoint), made)
    await record_history(client, wid, "new_registration_happy_path")


async def test_noncompliant_profile_is_reported_and_nothing_is_submitted(client, settings, task_queue, customer, control):
    # The ISV's "primary customer profile" here is a draft starter profile: the evaluation fails
    # the primary-profile requirement, which no customer correction can fix.
    from twilio.rest import Client

    from sandbox import defaults

    sdk = Client(customer.subaccount_sid, defaults.PARENT_AUTH_TOKEN)
    sdk.trusthub.base_url = settings.twilio_api_base_url
    not_primary = sdk.trusthub.v1.customer_profiles.create(
        friendly_name="not a primary profile", email="isv@example.com",
        policy_sid="RN806dd6cd175f314e1f96a9727ee271f4")
    misconfigured = settings.model_copy(update={"a2p_primary_customer_profile_sid": not_primary.sid})
    request = customer.request()
    wid = await start(client, misconfigured, task_queue, request)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    problem = status.problem
    assert problem.source == "customer_profile" and "noncompliant" in problem.summary
    assert any(f.requirement == "primary_customer_profile" for f in problem.failed_requirements), problem
    assert status.statuses.customer_profile == "draft"
    bundles = {b["sid"]: b["status"] for b in await customer.resources("customer_profiles")}
    assert bundles[status.sids.customer_profile] == "draft"  # never submitted
    assert await customer.count("trust_products") == 0

    await registrations.decide(client, wid, OperatorDecision(action="end", reason="ISV must fix its primary profile"))
    final = await result(client, wid)
    assert final.phase == Phase.FAILED


async def test_rejected_address_is_corrected_by_update(client, settings, task_queue, customer, control):
    request = customer.request(customer__address__street="1 Jersey Str")  # the seed's "Invalid Street"
    wid = await start(client, settings, task_queue, request)

    # Before anything went wrong, a correction is refused and changes nothing.
    with pytest.raises(registrations.UpdateRefused, match="nothing to correct"):
        await registrations.correct(client, wid, Correction(address={"street": "1 Jersey St"}))

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert "Invalid Street" in status.problem.summary or any(
        "Invalid Street" in e.message for e in status.problem.errors), status.problem
    assert "correction" in status.problem.accepts and "address" in status.problem.correction_fields

    # A correction that validates alone but not with the customer's data (a Canadian postal code
    # for a US address) is refused by the update's validator, synchronously, changing nothing.
    with pytest.raises(registrations.UpdateRefused, match="postal_code"):
        await registrations.correct(client, wid, Correction(address={"postal_code": "K1A 0B1"}))
    assert (await registrations.get_status(client, wid)).phase == Phase.NEEDS_ATTENTION

    await registrations.correct(client, wid, Correction(address={"street": "1 Jersey St"}))
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, request.customer.mobile_number)
    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED and final.statuses.campaign == "VERIFIED"
    address = await customer.resources("addresses")
    assert [a["street"] for a in address] == ["1 Jersey St"]
    await assert_one_of_each(customer)
    await record_history(client, wid, "new_registration_address_correction")


async def test_brand_failed_for_overused_mobile_is_corrected_and_updated(client, settings, task_queue, customer, control):
    request = customer.request(customer__mobile_number="+12025550199")  # already in 3 brands at TCR
    wid = await start(client, settings, task_queue, request)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand" and status.statuses.brand == "FAILED"
    assert any(e.code == 30712 for e in status.problem.errors), status.problem.errors
    assert any(x.startswith("30712") for x in status.problem.explanations)

    await registrations.correct(client, wid, Correction(mobile_number="+14155550177"))
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    await answer_otp(control, "+14155550177")
    final = await result(client, wid)
    assert final.phase == Phase.COMPLETED and final.brand_updates_used == 1
    await assert_one_of_each(customer)


async def test_worker_restart_mid_registration_completes_without_duplicates(
        client, settings, customer, control, temporal_env):
    from worker import running_worker

    queue = "restart-" + customer.subaccount_sid[-8:]
    request = customer.request()
    async with running_worker(client, settings, task_queue=queue):
        wid = await start(client, settings, queue, request)
        await wait_until(client, wid, lambda s: s.sids.trust_bundle is not None, what="trust bundle created")
    # No worker now: the registration waits, durable. A new worker picks it up where it was.
    async with running_worker(client, settings, task_queue=queue):
        await wait_phase(client, wid, Phase.OTP_VERIFICATION)
        await answer_otp(control, request.customer.mobile_number)
        final = await result(client, wid)
    assert final.phase == Phase.COMPLETED
    await assert_one_of_each(customer)


async def test_starting_the_same_customer_twice_gives_one_registration(client, settings, task_queue, customer):
    request = customer.request()
    first = await registrations.start_registration(client, settings, request, task_queue=task_queue)
    second = await registrations.start_registration(client, settings, request, task_queue=task_queue)
    assert first.created and not second.created
    assert (second.workflow_id, second.run_id) == (first.workflow_id, first.run_id)
    await registrations.cancel(client, first.workflow_id, "test done")
    final = await result(client, first.workflow_id)
    assert final.phase == Phase.CANCELLED
    third = await registrations.start_registration(client, settings, request, task_queue=task_queue)
    assert not third.created and third.run_id == first.run_id  # ended registrations are not redone


async def test_workers_down_across_the_otp_deadline_expire_it_without_one_more_resend(
        client, settings, customer, control):
    """No worker ran while both the next OTP re-send and the deadline came due: when one is back,
    the OTP expires for a person to decide; no OTP goes to the customer after the deadline."""
    import time
    from datetime import timedelta

    from tests.integration.conftest import FAST
    from worker import running_worker

    queue = "outage-" + customer.subaccount_sid[-8:]
    request = customer.request(timings=FAST.model_copy(update={
        "otp_resend_interval": timedelta(seconds=4), "otp_deadline": timedelta(seconds=8)}))
    async with running_worker(client, settings, task_queue=queue):
        wid = await start(client, settings, queue, request)
        waiting = await wait_phase(client, wid, Phase.OTP_VERIFICATION)
    assert waiting.otp.resends == 0 and waiting.otp.next_resend_at <= waiting.otp.deadline_at
    # No worker: wait (on the clock the workflow uses) until both have passed.
    past = (waiting.otp.deadline_at - waiting.started_at).total_seconds() + 1
    await eventually(lambda: time.time() > waiting.started_at.timestamp() + past, timeout=past + 5,
                     what="the OTP deadline passing while no worker runs", interval=0.2)
    async with running_worker(client, settings, task_queue=queue):
        expired = await wait_phase(client, wid, Phase.OTP_EXPIRED)
        assert expired.otp.resends == 0, [e.note for e in expired.timeline]
        assert not (await control.otp_messages(to=request.customer.mobile_number))["messages"][1:]
        await registrations.cancel(client, wid, "test done")

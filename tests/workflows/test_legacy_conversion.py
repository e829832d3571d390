"""LegacyConversion on the time-skipping server with fake Twilio, at the production timings."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from a2p.calls import Call, RequirementFailure
from a2p.progress import OperatorDecision, Phase
from a2p.requests import Correction, LegacyConversionRequest
from starter import registrations
from tests.factories import EXAMPLE, wait_phase, wait_until
from tests.workflows.conftest import conversion_request
from tests.workflows.fake_twilio import Account, Campaign, Review, brand_failed, new_sid, rejected

DAY = timedelta(days=1)
CAMPAIGN = json.loads(EXAMPLE.read_text())["campaign"]
WRITES = {Call.CREATE_END_USER, Call.UPDATE_END_USER, Call.ASSIGN_ENTITY, Call.SUBMIT_BUNDLE, Call.UPDATE_BRAND}


async def test_conversion_completes_the_bundle_updates_the_brand_and_creates_the_campaign(
        client, ts_settings, ts_queue, fake):
    example = json.loads(EXAMPLE.read_text())
    account = Account()  # the customer's Twilio, with the legacy brand and bundle in it
    bundle_sid, brand_sid = account.legacy()
    request = conversion_request(bundle_sid, brand_sid, campaign=example["campaign"],
                                 messaging_service={"friendly_name": "John Doe Photography"})
    fake.accounts[request.workflow_id] = account
    account.verify_after_resends = 1

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert final.timeline[-1].note == "conversion complete: brand verified, campaign verified"
    assert account.brands[brand_sid].updates == 1 and final.brand_updates_used == 1
    [end_user] = [sid for sid in account.bundles[bundle_sid].entities]
    assert account.end_users[end_user]["attributes"] == {
        "brand_name": "John Doe Photography", "mobile_phone_number": "+14155550124", "vertical": "PROFESSIONAL"}
    assert account.bundles[bundle_sid].submissions == 1
    assert (final.statuses.identity, final.statuses.campaign) == ("VERIFIED", "VERIFIED")
    assert account.count(Call.REGISTER_BRAND) == 0 and account.count(Call.CREATE_BUNDLE) == 0


@pytest.mark.parametrize("bundle_status, remedy", [
    ("twilio-approved", "already twilio-approved"),
    ("in-review", "ask Twilio Support to reject it"),
])
async def test_a_bundle_not_rejected_ends_the_conversion_before_any_write(client, ts_settings, ts_queue, fake,
                                                                        bundle_status, remedy):
    account = Account()
    bundle_sid, brand_sid = account.legacy(bundle_status=bundle_status)
    request = conversion_request(bundle_sid, brand_sid)
    fake.accounts[request.workflow_id] = account

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.FAILED and final.problem.source == "trust_bundle"
    assert f"is {bundle_status}, not twilio-rejected" in final.problem.summary
    assert "nothing was changed" in final.problem.summary and remedy in final.problem.remedy
    assert final.problem.accepts == [] and final.statuses.trust_bundle == bundle_status
    # Read only: the bundle was fetched, nothing else; the bundle and the brand are as they were.
    assert [call for call, _ in account.calls] == [Call.FETCH_BUNDLE]
    assert account.bundles[bundle_sid].status == bundle_status and account.bundles[bundle_sid].submissions == 0
    assert account.brands[brand_sid].status == "FAILED" and account.brands[brand_sid].updates == 0


async def test_an_approved_brand_is_not_updated_blindly(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy(brand=Review("APPROVED", identity_status="UNVERIFIED"),
                                         sole_proprietor_end_user=True)
    request = conversion_request(bundle_sid, brand_sid)
    fake.accounts[request.workflow_id] = account
    account.verify_after_resends = None  # approved, never OTP-verified

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    problem = parked.problem
    assert problem.source == "brand" and "APPROVED/UNVERIFIED" in problem.summary and "21725" in problem.summary
    assert problem.accepts == ["retry", "end"]
    assert "ask Twilio Support to set the legacy brand to FAILED" in problem.remedy
    assert any(x.startswith("21725") for x in problem.explanations)
    assert parked.sids.sole_proprietor_end_user is None  # checked before any write
    with pytest.raises(registrations.UpdateRefused, match="nothing to correct"):
        await registrations.correct(client, request.workflow_id, Correction(brand_name="Jane Doe Studio"))

    # retry: the brand is fetched again, is still APPROVED, and the conversion waits again.
    await registrations.decide(client, request.workflow_id, OperatorDecision(action="retry"))
    await wait_until(client, request.workflow_id, lambda s: s.phase == Phase.NEEDS_ATTENTION and sum(
        "operator asked to retry" in e.note for e in s.timeline) == 1, what="waiting again after the retry")
    assert account.count(Call.FETCH_BRAND) == 2

    await registrations.decide(client, request.workflow_id, OperatorDecision(action="end", reason="left as it is"))
    final = await registrations.final_status(client, request.workflow_id)
    assert final.phase == Phase.FAILED
    assert not (WRITES | {Call.EVALUATE_BUNDLE}) & {call for call, _ in account.calls}
    assert account.brands[brand_sid].status == "APPROVED" and account.brands[brand_sid].updates == 0


async def test_a_rejected_trust_bundle_is_corrected_before_the_brand_is_updated(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy()
    account.bundle_reviews["trust_bundle"] = [rejected("The mobile number is not valid")]
    request = conversion_request(bundle_sid, brand_sid)
    fake.accounts[request.workflow_id] = account

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert parked.problem.source == "trust_bundle" and "mobile number is not valid" in parked.problem.summary
    assert account.count(Call.UPDATE_BRAND) == 0

    with pytest.raises(registrations.UpdateRefused, match="changes only the sole proprietor's details"):
        await registrations.correct(client, request.workflow_id, Correction(email="john@doephotography.example.com"))
    await registrations.correct(client, request.workflow_id, Correction(mobile_number="+14155550177"))
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert account.bundles[bundle_sid].submissions == 2
    end_user = final.sids.sole_proprietor_end_user
    assert account.end_users[end_user]["attributes"]["mobile_phone_number"] == "+14155550177"
    calls = [c for c, _ in account.calls]
    assert calls.index(Call.UPDATE_BRAND) > max(i for i, c in enumerate(calls) if c == Call.SUBMIT_BUNDLE)


# ---- the rest of the conversion's branches ---------------------------------------------------------

PHONE_NUMBER_SID = "PN" + "1" * 32


def legacy_account(fake, account: Account, bundle_sid: str, brand_sid: str, **changes) -> LegacyConversionRequest:
    """The conversion request for the account's legacy brand, its fake Twilio registered."""
    request = conversion_request(bundle_sid, brand_sid, **changes)
    fake.accounts[request.workflow_id] = account
    return request


@pytest.mark.parametrize("service", ["new", "existing"])
async def test_conversion_with_a_campaign(client, ts_settings, ts_queue, fake, service):
    account = Account()
    bundle_sid, brand_sid = account.legacy()
    if service == "new":
        spec = {"friendly_name": "John Doe Photography", "phone_number_sid": PHONE_NUMBER_SID}
    else:
        existing = new_sid("MG")
        account.services[existing] = []  # the ISV's own service, without a campaign
        spec = {"existing_sid": existing, "phone_number_sid": PHONE_NUMBER_SID}
    request = legacy_account(fake, account, bundle_sid, brand_sid, campaign=CAMPAIGN, messaging_service=spec)

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert final.statuses.campaign == "VERIFIED"
    assert final.timeline[-1].note == "conversion complete: brand verified, campaign verified"
    assert final.sids.phone_number == PHONE_NUMBER_SID
    # One campaign, on the legacy brand, in the one service carrying the 10DLC number.
    [(campaign_sid, campaign)] = account.campaigns.items()
    assert final.sids.campaign == campaign_sid and campaign.brand_sid == brand_sid
    assert campaign.messaging_service_sid == final.sids.messaging_service
    assert account.services == {final.sids.messaging_service: [PHONE_NUMBER_SID]}
    assert account.count(Call.CREATE_CAMPAIGN) == 1 and account.brands[brand_sid].updates == 1
    if service == "new":
        assert account.count(Call.CREATE_MESSAGING_SERVICE) == 1 and account.count(Call.FIND_CAMPAIGN) == 0
    else:
        assert final.sids.messaging_service == spec["existing_sid"]
        assert account.count(Call.CREATE_MESSAGING_SERVICE) == 0 and account.count(Call.FIND_CAMPAIGN) == 1


async def test_a_campaign_the_brand_already_has_is_kept(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy()
    existing = new_sid("MG")
    account.services[existing] = [PHONE_NUMBER_SID]
    account.campaigns[new_sid("QE")] = Campaign(messaging_service_sid=existing, brand_sid=brand_sid,
                                                status="VERIFIED")
    request = legacy_account(fake, account, bundle_sid, brand_sid, campaign=CAMPAIGN,
                             messaging_service={"existing_sid": existing})

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert "the brand already has a campaign: kept as it is" in [e.note for e in final.timeline]
    [campaign_sid] = account.campaigns
    assert (final.sids.campaign, final.statuses.campaign) == (campaign_sid, "VERIFIED")
    assert account.count(Call.CREATE_CAMPAIGN) == 0 and account.count(Call.ADD_PHONE_NUMBER) == 0


async def test_otp_re_sent_every_24_hours_until_the_customer_replies(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy()
    account.verify_after_resends = 2  # the customer replies YES to the third OTP
    request = legacy_account(fake, account, bundle_sid, brand_sid)

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert (final.otp.sent, final.otp.resends) == (3, 2) and account.count(Call.RESEND_OTP) == 2
    at = {e.note: e.at for e in final.timeline}
    first = at["brand approved: OTP sent to the customer's mobile number"]
    # Each re-send 24 h after the OTP before it (plus the moments the calls themselves take).
    gaps = [at["OTP re-sent (1)"] - first, at["OTP re-sent (2)"] - at["OTP re-sent (1)"]]
    assert all(DAY <= gap < DAY + timedelta(minutes=1) for gap in gaps), gaps
    assert final.otp.verified_at >= at["OTP re-sent (2)"] and final.statuses.identity == "VERIFIED"
    assert account.brands[brand_sid].updates == 1


async def test_brand_failed_after_the_update_is_corrected_then_updated_again(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy()
    account.brand_reviews = [brand_failed(30712, "Maximum registrations reached for this mobile number")]
    request = legacy_account(fake, account, bundle_sid, brand_sid, mobile_number="+12025550199")

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    problem = parked.problem
    assert problem.source == "brand" and parked.statuses.brand == "FAILED" and parked.brand_updates_used == 1
    assert [e.code for e in problem.errors] == [30712] and any(x.startswith("30712") for x in problem.explanations)
    assert "correction" in problem.accepts and "2 of 3 updates left" in problem.remedy
    assert problem.correction_fields == ["brand_name", "mobile_number", "vertical"]
    with pytest.raises(registrations.UpdateRefused, match="only the sole proprietor's details"):
        await registrations.correct(client, request.workflow_id, Correction(email="john@doephotography.example.com"))

    await registrations.correct(client, request.workflow_id, Correction(mobile_number="+14155550177"))
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert final.brand_updates_used == 2 and account.brands[brand_sid].updates == 2
    # The corrected number in the one end user, the bundle resubmitted, then the brand updated again.
    [end_user] = account.bundles[bundle_sid].entities
    assert account.end_users[end_user]["attributes"]["mobile_phone_number"] == "+14155550177"
    assert account.count(Call.CREATE_END_USER) == 1 and account.count(Call.UPDATE_END_USER) == 1
    assert account.bundles[bundle_sid].submissions == 2
    calls = [c for c, _ in account.calls]
    assert [c for c in calls if c in (Call.UPDATE_END_USER, Call.SUBMIT_BUNDLE, Call.UPDATE_BRAND)] == [
        Call.SUBMIT_BUNDLE, Call.UPDATE_BRAND, Call.UPDATE_END_USER, Call.SUBMIT_BUNDLE, Call.UPDATE_BRAND]


async def test_noncompliant_trust_bundle_is_reported_then_fixed_and_completes(client, ts_settings, ts_queue, fake):
    # The converted trust bundle lost its Starter profile assignment: no correction of the sole
    # proprietor's details can fix that; the ISV re-assigns the profile, then an operator retries.
    account = Account()
    bundle_sid, brand_sid = account.legacy()
    account.evaluations["trust_bundle"] = [[RequirementFailure(
        requirement="customer_profile", object_type="customer_profile", reason="no customer profile assigned")]]
    request = legacy_account(fake, account, bundle_sid, brand_sid)

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    problem = parked.problem
    assert problem.source == "trust_bundle" and "noncompliant" in problem.summary
    assert [f.requirement for f in problem.failed_requirements] == ["customer_profile"]
    assert problem.accepts == ["retry", "end"]
    assert "assign the customer's twilio-approved Starter customer profile" in problem.remedy
    assert account.count(Call.SUBMIT_BUNDLE) == 0 and account.count(Call.UPDATE_BRAND) == 0
    with pytest.raises(registrations.UpdateRefused, match="nothing to correct"):
        await registrations.correct(client, request.workflow_id, Correction(vertical="RETAIL"))

    await registrations.decide(client, request.workflow_id,
                               OperatorDecision(action="retry", reason="starter profile re-assigned"))
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED and final.statuses.identity == "VERIFIED", final.problem
    assert account.count(Call.EVALUATE_BUNDLE) == 2 and account.bundles[bundle_sid].submissions == 1
    assert account.brands[brand_sid].updates == 1


async def test_assigned_sole_proprietor_end_user_is_updated_not_duplicated(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy(sole_proprietor_end_user=True)
    [existing] = account.bundles[bundle_sid].entities
    request = legacy_account(fake, account, bundle_sid, brand_sid, brand_name="Jane Doe Studio", vertical="RETAIL")

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert final.sids.sole_proprietor_end_user == existing
    assert any("already had a sole proprietor end user" in e.note for e in final.timeline)
    assert list(account.end_users) == [existing] and account.bundles[bundle_sid].entities == [existing]
    assert account.end_users[existing]["attributes"] == {
        "brand_name": "Jane Doe Studio", "mobile_phone_number": "+14155550124", "vertical": "RETAIL"}
    assert account.count(Call.CREATE_END_USER) == 0 and account.count(Call.ASSIGN_ENTITY) == 0
    assert account.count(Call.UPDATE_END_USER) == 1 and account.brands[brand_sid].updates == 1


async def test_a_brand_in_review_is_updated_once_its_review_has_failed(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy(brand=Review("IN_REVIEW", identity_status="UNVERIFIED"))
    request = legacy_account(fake, account, bundle_sid, brand_sid)

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert parked.problem.source == "brand" and "IN_REVIEW" in parked.problem.summary
    assert "retry once it has ended" in parked.problem.remedy
    assert not WRITES & {call for call, _ in account.calls}

    account.brands[brand_sid].status = "FAILED"  # the review ended
    await registrations.decide(client, request.workflow_id, OperatorDecision(action="retry"))
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert account.count(Call.UPDATE_BRAND) == 1 and final.brand_updates_used == 1
    assert account.bundles[bundle_sid].submissions == 1
